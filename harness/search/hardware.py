"""Hardware-aware search cells: the oracle also answers a device cost (HW-NAS-Bench latency
or energy from the table), optionally under a constraint, and the harness -- not the method
-- reads what the search found: the Pareto front of the archs it queried (by the search
metric, as the method saw them), that front's normalised hypervolume on the reported metric
(the measure the table's true front gets in the hardware report) and the best arch that
meets the constraint."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.errors import ConfigError
from harness.core.pareto import front, normalised_hypervolume


def attach(oracle, bench, dataset: str) -> None:
    """Give ``oracle`` the device costs of its budget's objective (and the constraint)."""
    budget = oracle.budget
    ds = dataset if dataset in bench.datasets else bench.datasets[0]
    if budget.objective not in bench.h5.costs(ds):
        have = sorted(c for c in bench.h5.costs(ds) if c.startswith("hw_"))
        raise ConfigError(f"objective {budget.objective!r}: {bench.name}/{dataset} has no such "
                          f"cost column; pick one of {have or 'none (no hardware costs)'}")
    costs = bench.cost(np.arange(bench.num_archs), budget.objective, ds).astype(np.float64)
    costs.setflags(write=False)
    oracle.costs = costs
    if budget.cost_quantile is not None:
        oracle.cost_limit = float(np.nanquantile(costs, budget.cost_quantile))


def result(oracle, bench, proto: dict) -> dict[str, Any]:
    """What the search found, judged on the reported metric (read here, after the search)."""
    order = np.asarray(oracle.order, dtype=np.int64)
    ids = np.arange(bench.num_archs, dtype=np.int64)
    test_all = bench.query(ids, proto["report_metric"], proto["report_dataset"])
    search = np.asarray([oracle.seen[a] for a in order])
    cost = oracle.costs[order]
    found = order[front(search, cost)]  # the front the method saw (search metric)
    hv = normalised_hypervolume(test_all[found], oracle.costs[found], test_all, oracle.costs)
    out: dict[str, Any] = {
        "objective": oracle.budget.objective, "cost_limit": oracle.cost_limit,
        "front": [int(a) for a in found],
        "front_cost": [float(f"{c:.6g}") for c in oracle.costs[found]],
        "front_test": [float(f"{t:.6g}") for t in test_all[found]],
        "hypervolume": round(float(hv), 6)}
    if oracle.cost_limit is not None:
        ok = cost <= oracle.cost_limit
        out["feasible_queried"] = int(ok.sum())
        if ok.any():
            best = order[ok][int(np.argmax(np.where(np.isnan(search[ok]), -np.inf,
                                                    search[ok])))]
            out["feasible_incumbent"] = int(best)
            out["feasible_test"] = float(test_all[best])
    return out
