"""Fidelity-ladder records: JSON lines, one finished (method, dataset, rung, seed) cell of
``python -m harness ladder`` each (:mod:`harness.run.ladder` writes them, the leaderboard's
ladder section reads them). Kept apart from the results store because a ladder cell is not
a cell of any profile: its configuration is the rung."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def home_records(method: str) -> Path:
    """Where ``python -m harness ladder`` appends records of ``method`` by default."""
    from harness.core.config import cache_home

    return cache_home() / "ladder" / f"{method}.jsonl"


def read_records(*paths: Path) -> list[dict[str, Any]]:
    """The records of JSON-lines files (missing files skipped); a later file's record of the
    same (method, dataset, rung, seed) replaces an earlier one's."""
    out: dict[tuple, dict] = {}
    for p in paths:
        if not p.exists():
            continue
        for line in p.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                out[(r["method"], r.get("dataset", "cifar10"), r["rung"], r["seed"])] = r
    return list(out.values())


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one record as a line (a whole line per write, so ladders may share a file)."""
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")
