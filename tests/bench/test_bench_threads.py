"""Torch threads, OpenMP waiting and worker processes on this machine: seconds per NB201
forward+backward (batch 64) in fresh processes, idle and beside one busy process, as ratios
to one thread on an idle machine, measured in the same run. The figures behind the proxy
sweep's defaults (one torch thread per process, one worker process per core; see
harness/proxies/sweep.py). Measurement only: runs with ``tox -e bench``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("threads_probe.py")
REPO = Path(__file__).resolve().parents[2]


def _probe(threads: int, policy: str, passes: int, procs: int = 1, busy: int = 0) -> float:
    """Median seconds per pass of ``procs`` simultaneous probe processes, with ``busy``
    spinning processes beside them."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_WAIT_POLICY=policy)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(busy)]
    try:
        runs = [subprocess.Popen([sys.executable, str(PROBE), str(threads), str(passes)],
                                 env=env, stdout=subprocess.PIPE, text=True)
                for _ in range(procs)]
        meds = [json.loads(p.communicate(timeout=600)[0])["median"] for p in runs]
    finally:
        for s in spinners:
            s.kill()
            s.wait()
    return sorted(meds)[len(meds) // 2]


def test_threads_and_workers(benchmark):
    if benchmark.disabled:
        pytest.skip("measurement only: tox -e bench (pytest --benchmark-enable)")
    base = benchmark.pedantic(_probe, args=(1, "PASSIVE", 6), rounds=1, iterations=1)
    figures = {
        "idle, 2 threads, passive": _probe(2, "PASSIVE", 6),
        "idle, 2 threads, active": _probe(2, "ACTIVE", 6),
        "busy, 1 thread": _probe(1, "PASSIVE", 6, busy=1),
        "busy, 2 threads, passive": _probe(2, "PASSIVE", 6, busy=1),
        "busy, 2 threads, active": _probe(2, "ACTIVE", 3, busy=1),
        # throughput of two worker processes: per-pass seconds of each, both running
        "idle, 2 processes x 1 thread": _probe(1, "PASSIVE", 6, procs=2),
        "busy, 2 processes x 1 thread": _probe(1, "PASSIVE", 6, procs=2, busy=1),
    }
    benchmark.extra_info["seconds idle, 1 thread"] = base
    for k, v in figures.items():
        benchmark.extra_info[f"seconds {k}"] = v
        benchmark.extra_info[f"ratio {k}"] = v / base
        print(f"{k}: {v:.3f} s/pass = {v / base:.2f}x one idle thread")
    assert all(v > 0 for v in figures.values())
