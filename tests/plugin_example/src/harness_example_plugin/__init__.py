"""An example plugin: a (1+1) evolution strategy registered via ``harness.methods``."""

import numpy as np

from harness.api import SearchStrategy


class GreedyMutation(SearchStrategy):
    """(1+1)-ES: mutate the incumbent, keep the child if it is at least as good."""

    version = "1"

    def _search(self, oracle, rng: np.random.Generator) -> None:
        best = int(rng.integers(oracle.num_archs))
        value = oracle.query(best)
        while True:
            child = oracle.mutate(best, rng)
            v = oracle.query(child)
            if v >= value:
                best, value = child, v
