"""Zero-cost warmup (Abdelfattah, Mehrotra, Dudziak & Lane, "Zero-Cost Proxies for
Lightweight NAS", ICLR 2021): score a pool of random archs with a proxy, without training,
and start a search from the best-scored ones."""

from __future__ import annotations

import numpy as np

from harness.api import SearchView
from harness.core.errors import BudgetExhausted


def top_of_pool(oracle: SearchView, rng: np.random.Generator, k: int) -> list[int]:
    """The ``k`` best-scored archs of a pool of uniformly random distinct archs, as many as
    the cell's score allowance (the budget's ``scored``) pays for; ties keep the first
    drawn. Archs scored -inf (no input-to-output path) come last."""
    pool: list[tuple[float, int]] = []
    try:
        for arch in rng.permutation(oracle.num_archs):
            pool.append((oracle.score(int(arch)), int(arch)))
    except BudgetExhausted:  # the pool is scored
        pass
    order = sorted(range(len(pool)), key=lambda i: (-pool[i][0], i))
    return [pool[i][1] for i in order[:k]]
