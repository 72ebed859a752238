"""Regularized evolution with zero-cost warmup (Abdelfattah et al., ICLR 2021, Section 5;
their public example: SamsungLabs/zero-cost-nas, notebooks/nas_examples.ipynb)."""

from __future__ import annotations

import numpy as np

from harness.api import SearchView
from methods.search._warm import top_of_pool
from methods.search.rea import RegularizedEvolution


class WarmRea(RegularizedEvolution):
    """REA warm-started: its initial population is the best-scored of a proxy pool.

    The budget's ``scored`` archs (the paper's warmup pool: 3,000 on NAS-Bench-201) are
    drawn uniformly at random and scored with its score table (synflow by default), with
    no training; the ``population`` best become the initial population, then REA runs as
    usual (population 10, tournament 3: NB201's settings; the authors' example uses 64 and
    10). Only the ``queries`` trained archs count against the query budget; the pool's
    scoring is charged to the simulated seconds where the table has training times.
    Deviation: the pool is drawn without repetition (the example draws with it).
    """

    version = "1"
    #: complete score tables exist for NB201 (the harness builds proxy tables there; the
    #: TNB101 tables have no params column to check with)
    benchmarks = ("nb201",)
    warm_start_of = "rea"

    def _initial(self, oracle: SearchView, rng: np.random.Generator) -> list[int]:
        return top_of_pool(oracle, rng, self.population)
