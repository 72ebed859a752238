"""How long each stage of ``python -m harness run`` took: a clock per stage while a run
goes, and a JSON-lines log beside the results store, one line per invocation (the engine
writes it, the leaderboard's timings page reads it as ``first_run_seconds``).

The "first run" of a store is the invocations from the one that found the store empty
through the one that left nothing to run: a killed first run resumes, so its stages are
summed over every invocation that did work until then.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: the stages of a run, in the order they run (the leaderboard's timings page keeps it)
STAGES = ("score tables", "search cells", "proxy sweep", "proxy cells", "one-shot cells",
          "leaderboard")


class StageClock:
    """Wall seconds per stage (a stage entered twice adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}; one of {STAGES}")
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def log_path(store_path: Path) -> Path:
    """The run log of the store at ``store_path``."""
    return Path(store_path).with_suffix(".runs.jsonl")


def append_run(store_path: Path, record: dict[str, Any]) -> None:
    """Append one invocation's record (a whole line per write)."""
    with log_path(store_path).open("a") as f:
        f.write(json.dumps(record) + "\n")


def read_runs(store_path: Path) -> list[dict[str, Any]]:
    """The invocations logged for a store, oldest first (none if it has no log; a line
    cut short by a killed process is skipped)."""
    p = log_path(store_path)
    if not p.exists():
        return []
    out = []
    for line in p.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def first_run_seconds(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Seconds per stage (and ``total``) of the store's first run, or None if the log does
    not hold one that started on an empty store."""
    start = next((i for i, r in enumerate(runs) if r.get("rows_before") == 0), None)
    if start is None:
        return None
    stages: dict[str, float] = {}
    used = 0
    for r in runs[start:]:
        for k, v in r.get("stages", {}).items():
            stages[k] = stages.get(k, 0.0) + float(v)
        used += 1
        if r.get("left", 1) == 0:
            break
    ordered = {k: round(stages[k], 1) for k in STAGES if k in stages}
    return {"total": round(sum(stages.values()), 1), "stages": ordered, "invocations": used,
            "complete": runs[start + used - 1].get("left", 1) == 0,
            "started": runs[start].get("started"), "host": runs[start].get("host"),
            "cores": runs[start].get("cores"),
            "cpu": runs[start].get("cpu", "not recorded")}


def describe(seconds: dict[str, float]) -> str:
    """``seconds`` per stage as one line, e.g. "search cells 3m 10s, ... total 1h 02m"."""
    def fmt(s: float) -> str:
        s = int(round(s))
        h, m, sec = s // 3600, s % 3600 // 60, s % 60
        return f"{h}h {m:02d}m" if h else f"{m}m {sec:02d}s" if m else f"{sec}s"

    parts = [f"{k} {fmt(seconds[k])}" for k in STAGES if k in seconds]
    return ", ".join(parts + [f"total {fmt(sum(seconds.values()))}"])
