"""Regularized evolution (Real et al., AAAI 2019), with NB201/NATS-Bench's settings."""

from __future__ import annotations

from collections import deque

import numpy as np

from harness.api import SearchStrategy, SearchView


class RegularizedEvolution(SearchStrategy):
    """Regularized (aging) evolution: tournament selection, one-edge mutation, oldest dies.

    Population 10 and tournament size 3 as in NAS-Bench-201 / NATS-Bench. The tournament
    samples with replacement, as in the NB201 reference implementation.
    """

    version = "1"

    def __init__(self, population: int = 10, tournament: int = 3):
        super().__init__(population=population, tournament=tournament)
        self.population = population
        self.tournament = tournament

    def _initial(self, oracle: SearchView, rng: np.random.Generator) -> list[int]:
        """The initial population: ``population`` uniformly random distinct archs."""
        return [int(a) for a in rng.permutation(oracle.num_archs)[: self.population]]

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        pop: deque[tuple[int, float]] = deque()
        for arch in self._initial(oracle, rng):
            pop.append((arch, oracle.query(arch)))
        while True:
            picks = rng.integers(0, len(pop), size=self.tournament)
            parent = max((pop[i] for i in picks), key=lambda av: av[1])[0]
            child = oracle.mutate(parent, rng)
            pop.append((child, oracle.query(child)))
            pop.popleft()
