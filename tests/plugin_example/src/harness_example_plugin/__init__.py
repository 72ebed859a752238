"""An example plugin: a (1+1) evolution strategy registered via ``harness.methods``."""

import numpy as np

from harness.api import SearchStrategy


class GreedyMutation(SearchStrategy):
    """(1+1)-ES: mutate the incumbent, keep the child if it is at least as good.

    Re-queries are free, so a child already evaluated teaches nothing: after a few mutations
    that only return seen archs (a local optimum whose neighbours are all known, common on
    small spaces such as TransNAS-Bench-101's), it restarts from a random unseen arch.
    """

    version = "2"
    #: mutations that return seen archs before a random restart
    patience = 20

    def _search(self, oracle, rng: np.random.Generator) -> None:
        best = int(rng.integers(oracle.num_archs))
        value = oracle.query(best)
        seen, stalls = {best}, 0
        while len(seen) < oracle.num_archs:
            child = oracle.mutate(best, rng)
            if child in seen:
                stalls += 1
                if stalls < self.patience:
                    continue
                child = int(rng.integers(oracle.num_archs))
                if child in seen:
                    continue
            stalls = 0
            seen.add(child)
            v = oracle.query(child)
            if v >= value:
                best, value = child, v
