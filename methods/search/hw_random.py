"""Constrained random search: the hardware-aware baseline (random search that never trains
an arch over the device budget)."""

from __future__ import annotations

import numpy as np

from harness.api import SearchStrategy, SearchView


class ConstrainedRandom(SearchStrategy):
    """Constrained random search: only archs within the device-cost limit are trained.

    Random search among the archs whose device cost (free to look up) meets the cell's
    ``cost_limit``; with no limit, plain random search with the cost recorded."""

    version = "1"
    hardware_aware = True
    #: the only shipped table with device costs (HW-NAS-Bench)
    benchmarks = ("nb201",)

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        limit = oracle.cost_limit
        for arch in rng.permutation(oracle.num_archs):
            if limit is None or oracle.cost(int(arch)) <= limit:
                oracle.query(int(arch))
