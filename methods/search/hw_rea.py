"""Constrained regularized evolution: REA (Real et al., AAAI 2019) that only trains archs
within a device budget, the usual hardware-aware adaptation (e.g. HW-NAS-Bench's
constrained baselines)."""

from __future__ import annotations

from collections import deque

import numpy as np

from harness.api import SearchStrategy, SearchView


class ConstrainedRea(SearchStrategy):
    """Constrained REA: regularized evolution that trains only archs within the cost limit.

    REA with population 10 and tournament 3 (NB201's settings) whose initial archs and
    children all meet the cell's ``cost_limit``: a child over the limit is mutated again (up
    to ``retries`` times, then a random feasible arch takes its place). Costs are free to
    look up; only feasible archs are queried."""

    version = "1"
    hardware_aware = True
    #: the only shipped table with device costs (HW-NAS-Bench)
    benchmarks = ("nb201",)

    def __init__(self, population: int = 10, tournament: int = 3, retries: int = 50):
        super().__init__(population=population, tournament=tournament, retries=retries)
        self.population, self.tournament, self.retries = population, tournament, retries

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        limit = oracle.cost_limit

        def feasible(a: int) -> bool:
            return limit is None or oracle.cost(a) <= limit

        pool = [int(a) for a in rng.permutation(oracle.num_archs) if feasible(int(a))]
        pop: deque[tuple[int, float]] = deque()
        for arch in pool[: self.population]:
            pop.append((arch, oracle.query(arch)))
        while True:
            picks = rng.integers(0, len(pop), size=self.tournament)
            parent = max((pop[i] for i in picks), key=lambda av: av[1])[0]
            child = parent
            for _ in range(self.retries):
                child = oracle.mutate(parent, rng)
                if feasible(child):
                    break
            else:
                child = pool[int(rng.integers(len(pool)))]
            pop.append((child, oracle.query(child)))
            pop.popleft()
