"""Executor overhead per cell: the smoke profile's 84 search cells (milliseconds of work each,
so the executor's cost dominates) run in this process, on the local pool of two workers and
as Ray tasks on a local two-CPU Ray instance, after each executor is warm (workers started,
benchmark loaded). The figure is seconds per cell and the Ray/pool ratio, in the benchmark's
extra_info; every executor's rows are checked equal. Marked ``ray``:
``tox -e ray -- tests/bench/test_bench_executors.py --benchmark-enable``."""

from __future__ import annotations

import os
import time

import pytest

from harness.core.cell import RunEnv
from harness.core.store import without_volatile
from harness.run.engine import drop_unavailable
from harness.run.executors import InlineExecutor, PoolExecutor
from harness.run.profile import load_profile
from harness.search.cells import plan_cells

pytestmark = [pytest.mark.ray, pytest.mark.realdata]
if not os.environ.get("CI"):
    pytest.importorskip("ray")


def _cells(registry):
    prof = load_profile("smoke")
    drop_unavailable(prof, lambda _msg: None)  # NB101 needs the official file
    methods = {n: registry.get(n) for n in ("random", "rea", "local-search", "reinforce")}
    return plan_cells(prof, methods)  # NB201 and TNB101, every seed


def _rows(ex, cells) -> tuple[float, list[dict]]:
    t0 = time.perf_counter()
    outs = list(ex.map(cells, RunEnv()))
    wall = time.perf_counter() - t0
    assert all(o.value is not None for o in outs), [o.error for o in outs if o.error]
    rows = sorted((without_volatile(o.value) for o in outs),
                  key=lambda r: (r["method"], r["dataset"], r["seed"]))
    return wall, rows


def test_ray_overhead_per_cell_against_the_local_pool(benchmark, nb201):
    from harness.core.registry import default_registry
    from harness.run.ray_executor import RayExecutor

    cells = _cells(default_registry())
    assert len(cells) >= 80
    inline_wall, inline_rows = _rows(InlineExecutor(), cells)
    with PoolExecutor(2) as pool, RayExecutor(jobs=2) as ray_ex:
        _rows(pool, cells)  # warm: workers started, benchmark loaded in each
        _rows(ray_ex, cells)
        pool_wall, pool_rows = _rows(pool, cells)
        result = {}

        def ray_run():
            result["wall"], result["rows"] = _rows(ray_ex, cells)

        benchmark.pedantic(ray_run, rounds=1, iterations=1)
    assert pool_rows == inline_rows == result["rows"]
    n = len(cells)
    benchmark.extra_info.update({
        "cells": n, "inline_s_per_cell": inline_wall / n, "pool_s_per_cell": pool_wall / n,
        "ray_s_per_cell": result["wall"] / n,
        "ray_over_pool": result["wall"] / pool_wall})
    print(f"\n{n} search cells: inline {inline_wall / n * 1e3:.1f} ms/cell, pool(2) "
          f"{pool_wall / n * 1e3:.1f} ms/cell, ray(2) {result['wall'] / n * 1e3:.1f} ms/cell "
          f"(ray/pool {result['wall'] / pool_wall:.2f}x)")
