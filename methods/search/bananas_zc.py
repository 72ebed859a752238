"""BANANAS with zero-cost warmup: the initial design of BANANAS (White et al., AAAI 2021)
taken from a proxy-scored pool (Abdelfattah et al., ICLR 2021, warmup of predictor-based
search)."""

from __future__ import annotations

import numpy as np

from harness.api import SearchView
from methods.search._warm import top_of_pool
from methods.search.bananas import Bananas


class WarmBananas(Bananas):
    """BANANAS warm-started: its 10 initial archs are the best-scored of a proxy pool.

    The budget's ``scored`` archs are drawn uniformly at random and scored with its score
    table (no training); the 10 best are the first trained archs, from which the ensemble
    surrogate starts; then BANANAS runs unchanged. The pool's scoring is charged to the
    simulated seconds where the table has training times.
    """

    version = "3"  # follows bananas (40-step float64 fits)
    #: complete score tables exist for NB201 (the harness builds proxy tables there; the
    #: TNB101 tables have no params column to check with)
    benchmarks = ("nb201",)
    warm_start_of = "bananas"

    def _initial(self, oracle: SearchView, rng: np.random.Generator) -> list[int]:
        return top_of_pool(oracle, rng, self.initial)
