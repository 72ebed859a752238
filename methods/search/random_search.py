"""Random search (Li & Talwalkar, UAI 2019; the NB201/NATS-Bench baseline)."""

from __future__ import annotations

import numpy as np

from harness.api import SearchStrategy, SearchView


class RandomSearch(SearchStrategy):
    """Random search: query architectures uniformly at random without repetition."""

    version = "1"

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        for arch in rng.permutation(oracle.num_archs):
            oracle.query(int(arch))
