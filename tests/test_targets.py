"""Budget to target: the queries (or simulated seconds) a strategy spends before its
incumbent is within 0.1 / 0.5 of the table's optimum, from stored trajectories."""

from __future__ import annotations

import pytest

from harness.report.targets import rows_for, section, table_best


def _row(method, seed, inc, *, queries=None, sim=None, report_on="cifar10/test_acc",
         budget="queries=4", benchmark="nb201", dataset="cifar10"):
    traj = {"incumbent_test": inc, "queries": queries or list(range(1, len(inc) + 1))}
    if sim is not None:
        traj["sim_seconds"] = sim
    return {"kind": "search", "benchmark": benchmark, "dataset": dataset, "method": method,
            "seed": seed, "budget": budget, "report_on": report_on,
            "result": {"trajectory": traj}}


def test_queries_to_reach_each_margin_and_seeds_that_never_do():
    rows = [_row("rea", 0, [90.0, 94.0, 94.3, 94.3]),  # 0.5 at query 2, 0.1 at query 3
            _row("rea", 1, [80.0, 85.0, 85.0, 85.0]),  # never
            _row("rea", 2, [94.37, 94.37, 94.37, 94.37])]  # the optimum at once
    (got,) = rows_for(rows, best=lambda b, on: (94.37, True))
    assert got["seeds"] == 3 and got["unit"] == "queries"
    assert (got["reached_0.1"], got["median_0.1"]) == (2, 2.0)  # queries 3 and 1
    assert (got["reached_0.5"], got["median_0.5"]) == (2, 1.5)  # queries 2 and 1
    md = section(rows, best=lambda b, on: (94.37, True))["markdown"]
    assert "| cifar10   | rea      | queries=4 |     94.37 | 2/3: 2" in md


def test_lower_is_better_metrics_use_a_relative_margin_and_simulated_seconds():
    # a loss whose optimum is 0.5: 0.1% is 0.0005, 0.5% is 0.0025
    rows = [_row("random", 0, [0.6, 0.502, 0.5004], sim=[100.0, 250.0, 400.0],
                 report_on="autoencoder/test_l1_loss", budget="sim_seconds=400",
                 benchmark="tnb101-micro", dataset="autoencoder")]
    (got,) = rows_for(rows, best=lambda b, on: (0.5, False))
    assert got["unit"] == "simulated seconds"
    assert (got["reached_0.5"], got["median_0.5"]) == (1, 250.0)
    assert (got["reached_0.1"], got["median_0.1"]) == (1, 400.0)


def test_a_table_that_cannot_be_opened_gives_no_row():
    assert rows_for([_row("rea", 0, [90.0])], best=lambda b, on: None) == []


def test_the_optimum_is_the_tables(nb201):
    best, higher = table_best("nb201", "cifar10/test_acc")
    assert higher and best == pytest.approx(94.37, abs=0.01)  # arch 6111, the NB201 optimum
