"""NASWOT search (Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without
Training", ICML 2021; reference code: BayesWatch/nas-without-training)."""

from __future__ import annotations

import numpy as np

from harness.api import SearchStrategy, SearchView
from harness.core.errors import BudgetExhausted


class NaswotSearch(SearchStrategy):
    """NASWOT search: score N random archs without training, then train only the best.

    N archs are drawn uniformly at random (without repetition) and scored; the paper's
    search, N = the budget's ``scored``.

    The scores come from the cell's score table (:mod:`harness.search.scores`, named in
    the budget, e.g. the NASWOT authors' published table), never from a trained network;
    the one query is the harness reading the chosen arch's table accuracy (the paper
    reports its accuracy the same way, from NAS-Bench-201). Ties keep the first drawn.
    Runs only under a training-free budget (``scored`` and ``scores``).
    """

    version = "1"
    #: score tables of the whole space exist for NB201 only (harness.search.scores)
    benchmarks = ("nb201",)
    #: planned only with a training-free budget (the profile's search.training_free)
    training_free = True

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        best, best_score = None, -np.inf
        try:
            for arch in rng.permutation(oracle.num_archs):
                s = oracle.score(int(arch))
                if best is None or s > best_score:
                    best, best_score = int(arch), s
        except BudgetExhausted:  # N archs scored
            pass
        if best is not None:
            oracle.query(best)
