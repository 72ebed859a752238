"""Local search (White, Nolen, Ravi, Hutter, ICML 2021 workshop / "Local search is
state of the art for NAS benchmarks")."""

from __future__ import annotations

import numpy as np

from harness.api import SearchStrategy, SearchView


class LocalSearch(SearchStrategy):
    """Hill climbing over ``neighbours`` (all single-edge changes), restarting at optima.

    From a random architecture, query its neighbours in random order; move to the best one
    if it improves on the current architecture, otherwise restart from a new random one.
    """

    version = "1"

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        while True:
            current = int(rng.integers(oracle.num_archs))
            value = oracle.query(current)
            while True:
                nbrs = rng.permutation(oracle.neighbours(current))
                vals = [oracle.query(int(a)) for a in nbrs]
                best = int(np.argmax(vals))
                if vals[best] <= value:
                    break  # local optimum: restart
                current, value = int(nbrs[best]), vals[best]
