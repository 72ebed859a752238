"""The Ray executor against the local one: same rows, faults injected by killing Ray worker
processes (test-owned, by PID) and the driver. Marked ``ray`` (a few minutes): the default
test run skips them; ``.ci/run`` runs them in its own step (``tox -e ray``)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.core.cell import Paused, Resources
from harness.core.errors import MethodError
from harness.core.timelimit import time_limit
from tests.helpers import REPO, run_cli

pytestmark = [pytest.mark.ray, pytest.mark.slow]
if not os.environ.get("CI"):
    pytest.importorskip("ray")


# ---- the executor on toy units ------------------------------------------------------------
@dataclass(frozen=True)
class Toy:
    what: str

    def label(self) -> str:
        return f"toy {self.what}"

    def resources(self) -> Resources:
        return Resources(threads=1, torch=False, memory_mb=64)

    def resume_point(self) -> str:
        return "its start"

    def run(self, env):
        if self.what == "fails":
            raise MethodError("toy failed on purpose")
        if self.what == "pauses":
            raise Paused(2, 5)
        if self.what == "hangs":  # the cell time limit works inside a Ray worker too
            with time_limit(1 / 60, "toy hangs"):
                while True:
                    time.sleep(0.01)
        if self.what == "bug":
            raise ValueError("a bug, not a cell failure")
        return os.getpid()


@pytest.fixture(scope="module")
def ray_local():
    import ray
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # toys reach workers
    from harness.run.ray_executor import RayExecutor

    ex = RayExecutor(jobs=2)
    yield ex
    ex.close()


def test_outcomes_cross_the_cluster_as_data(ray_local):
    from harness.core.cell import RunEnv

    outs = {o.unit.what: o for o in ray_local.map(
        [Toy("ok"), Toy("fails"), Toy("pauses"), Toy("hangs"), Toy("ok2")], RunEnv())}
    assert isinstance(outs["ok"].value, int) and outs["ok"].value != os.getpid()
    assert outs["fails"].error == "toy failed on purpose" and outs["fails"].value is None
    assert outs["pauses"].paused == (2, 5)
    assert "toy hangs exceeded its time limit" in outs["hangs"].error
    assert ray_local.slots == 2
    with pytest.raises(ValueError, match="a bug"):
        list(ray_local.map([Toy("bug")], RunEnv()))


def test_stop_rule_leaves_the_rest_unstarted(ray_local):
    from harness.core.cell import RunEnv

    outs = list(ray_local.map([Toy("ok"), Toy("ok"), Toy("ok"), Toy("ok")], RunEnv(),
                              stop=lambda i: i >= 1))
    assert [o.skipped for o in outs].count(True) == 3
    assert sum(o.value is not None for o in outs) == 1


# ---- the smoke profile, both ways -----------------------------------------------------------
def _run(store: Path, *extra: str, check: bool = True, **kw):
    """The smoke profile into ``store`` (its leaderboard beside it, never into the repo)."""
    return run_cli("run", "--all", "--profile", "smoke", "--store", str(store), "--quiet",
                   "--out", str(store.with_suffix(".lb")), *extra, check=check, timeout=900,
                   **kw)


def _export(store: Path) -> list[dict]:
    proc = run_cli("export", "--store", str(store), "--format", "json", "--drop-volatile",
                   check=True)
    return json.loads(proc.stdout)


def _integrity(store: Path) -> tuple[int, int]:
    """(rows, distinct cell keys) of a store."""
    from harness.core.store import KEY

    con = sqlite3.connect(str(store))
    n = con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    d = con.execute(f"SELECT COUNT(*) FROM (SELECT DISTINCT {', '.join(KEY)} FROM results)"
                    ).fetchone()[0]
    con.close()
    return n, d


def _row_diff(got: list[dict], want: list[dict]) -> str:
    """The rows that differ, each as its key and the top-level fields that differ; "" when
    none does (pytest's own diff of ~130 rows is thousands of lines; CI shows its tail)."""
    from harness.core.store import KEY as key

    if got == want:
        return ""
    index = {tuple(r.get(k) for k in key): r for r in want}
    lines = [f"{len(got)} rows vs {len(want)} expected"]
    for r in got:
        k = tuple(r.get(f) for f in key)
        w = index.pop(k, None)
        if w is None:
            lines.append(f"unexpected row {k}")
        elif w != r:
            fields = sorted(f for f in set(r) | set(w) if r.get(f) != w.get(f))
            lines.append(f"differs {k}: " + ", ".join(
                f"{f}: {str(r.get(f))[:80]} vs {str(w.get(f))[:80]}" for f in fields))
    lines += [f"missing row {k}" for k in index]
    return "\n".join(lines[:40])


@pytest.fixture(scope="module")
def local_store(tmp_path_factory, nb201) -> Path:
    store = tmp_path_factory.mktemp("local") / "local.sqlite"
    _run(store)
    return store


@pytest.fixture(scope="module")
def local_export(local_store):
    return _export(local_store)


def test_smoke_profile_gives_the_same_export_on_ray(local_export, local_store, tmp_path):
    """Two independent runs of the smoke profile (this process's pool; two Ray workers):
    the same rows, and leaderboards identical byte for byte apart from the timings folder."""
    from harness.report.manifest import compare, digests

    store = tmp_path / "ray.sqlite"
    _run(store, "--executor", "ray", "--jobs", "2")
    got = _export(store)
    assert {r["kind"] for r in got} == {"search", "proxy", "proxy-published", "oneshot"}
    assert len(got) > 100
    assert _row_diff(got, local_export) == ""
    here, there = local_store.with_suffix(".lb"), store.with_suffix(".lb")
    assert len(digests(here)) > 10 and any(p.startswith("figures/") for p in digests(here))
    assert compare(digests(here), digests(there)) == []
    # the timings are the one part that differs, and both runs wrote them
    assert json.loads((here / "timings" / "timings.json").read_text())["generated"]
    assert (there / "timings" / "index.html").exists()


def _harness_workers() -> dict[int, str]:
    """PIDs of Ray worker processes running a harness task now."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if args.startswith("ray::harness_") and not args.startswith("ray::harness_Cell"):
            found[int(pid)] = args.split()[0]
    return found


class Killer(threading.Thread):
    """Kills (SIGKILL) a worker seen running a proxy chunk or a one-shot cell in two polls in
    a row, i.e. mid-cell, up to ``quota[task]`` kills per task name; one kill per ``gap``
    seconds at most."""

    def __init__(self, quota: dict[str, int], gap: float = 0.6):
        super().__init__(daemon=True)
        self.quota, self.gap, self.killed, self.done = dict(quota), gap, [], threading.Event()

    def run(self) -> None:
        seen: dict[int, str] = {}
        while not self.done.is_set() and any(self.quota.values()):
            now = {p: t for p, t in _harness_workers().items()
                   if self.quota.get(t.removeprefix("ray::harness_"))}
            mid = [p for p, t in now.items() if seen.get(p) == t]
            if mid:
                try:
                    os.kill(mid[0], signal.SIGKILL)
                    self.killed.append(now[mid[0]])
                    self.quota[now[mid[0]].removeprefix("ray::harness_")] -= 1
                except ProcessLookupError:
                    pass
                time.sleep(self.gap)
                seen = {}
                continue
            seen = now
            time.sleep(0.15)


def test_killed_workers_lose_and_duplicate_no_row(local_export, tmp_path):
    store = tmp_path / "faults.sqlite"
    killer = Killer({"ProxyChunk": 6, "OneShotCell": 6})
    killer.start()
    try:
        proc = _run(store, "--executor", "ray", "--jobs", "2", "--retries", "30", check=False)
    finally:
        killer.done.set()
        killer.join()
    assert proc.returncode == 0, proc.stderr[-2000:]
    print(f"killed {len(killer.killed)} workers mid-cell: {killer.killed}")
    assert len(killer.killed) >= 10, killer.killed
    assert {"ray::harness_ProxyChunk", "ray::harness_OneShotCell"} <= set(killer.killed)
    rows, distinct = _integrity(store)
    n = len(local_export)  # a plain name: pytest would print the whole list for len(...)
    assert (rows, distinct) == (n, n)  # none lost, none twice
    got = _export(store)
    assert _row_diff(got, local_export) == ""  # every retried row the same


def test_killed_driver_resumes_on_rerun(local_export, tmp_path):
    store = tmp_path / "driver.sqlite"
    args = [sys.executable, "-m", "harness", "run", "--all", "--profile", "smoke", "--store",
            str(store), "--quiet", "--out", str(tmp_path / "lb"), "--executor", "ray",
            "--jobs", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    drv = subprocess.Popen(args, cwd=str(REPO), env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    ckpts = store.with_suffix(".checkpoints")
    try:  # kill it once one-shot cells are checkpointing (search and proxy rows stored)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 600 and drv.poll() is None:
            if ckpts.exists() and any(ckpts.glob("*.pt")):
                break
            time.sleep(0.2)
        assert drv.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(drv.pid, signal.SIGKILL)  # the driver and the Ray instance it started
        drv.wait()
    before, _ = _integrity(store)
    n = len(local_export)
    assert 0 < before < n, (before, n)
    _run(store, "--executor", "ray", "--jobs", "2")
    rows, distinct = _integrity(store)
    assert (rows, distinct) == (n, n)
    got = _export(store)
    assert _row_diff(got, local_export) == ""
