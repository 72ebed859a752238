"""Search-strategy speed: one run of each strategy with a 100-query budget on NB201 (REA's
goal <= 20 ms; report the others as ratios to REA's), beside a baseline from the same run:
100 bare lookups of the search column in Python."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.budget import Budget
from harness.core.registry import default_registry
from harness.search.cells import Cell, run_search_cell

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("name", ["rea", "random", "local-search", "reinforce",
                                  "bananas", "hyperband", "bohb"])
def test_search_run_100_queries(benchmark, nb201, name):
    cls = default_registry().get(name)
    cell = Cell(name, "nb201", "cifar10", 0, Budget(queries=100), 1)
    row = benchmark(run_search_cell, cls, cell, nb201)
    assert 99 < row["queries_used"] <= 100  # Hyperband/BOHB: a full query no longer fits


def test_baseline_100_python_lookups(benchmark, nb201):
    col = nb201.query(np.arange(nb201.num_archs), "valid_acc", "cifar10-valid")
    ids = np.random.default_rng(0).integers(0, nb201.num_archs, 100)

    def run():
        return max(float(col[i]) for i in ids)

    assert benchmark(run) <= 91.61


@pytest.mark.parametrize("name, budget", [
    ("hw-random", Budget(queries=100, objective="hw_pixel3_latency", cost_quantile=0.25)),
    ("hw-rea", Budget(queries=100, objective="hw_pixel3_latency", cost_quantile=0.25)),
    ("nsga2", Budget(queries=100, objective="hw_pixel3_latency", cost_quantile=0.25)),
    ("naswot", Budget(queries=1, scored=100, scores="naswot-v1")),
    ("rea-zc", Budget(queries=100, scored=3000, scores="params")),
    ("bananas-zc", Budget(queries=100, scored=3000, scores="params")),
])
def test_hardware_and_training_free_runs(benchmark, nb201, name, budget):
    """The hardware-aware strategies at 100 queries (Pixel 3 latency, constrained), NASWOT
    search scoring 100 archs and the warm starts scoring a pool of 3,000 before 100 queries
    (the params table: loading a built proxy table is the same array read): compare with
    REA's 100-query run above."""
    cls = default_registry().get(name)
    row = benchmark(run_search_cell, cls, Cell(name, "nb201", "cifar10", 0, budget, 1), nb201)
    assert row["queries_used"] == budget.queries


def test_bananas_float32_fits_100_queries(benchmark, nb201):
    """BANANAS version 2's float32 fits (``precision=32``) beside version 3's float64 run
    above: the price of CPU-independent results (tests/test_bananas_kernels.py)."""
    from methods.search.bananas import Bananas

    cls = type("Bananas32", (Bananas,), {"__init__": lambda self: Bananas.__init__(
        self, precision=32)})
    row = benchmark(run_search_cell, cls, Cell("bananas", "nb201", "cifar10", 0,
                                               Budget(queries=100), 1), nb201)
    assert row["queries_used"] == 100
