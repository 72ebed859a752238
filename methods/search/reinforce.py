"""REINFORCE (Williams, 1992) as used by NAS-Bench-201 / NATS-Bench."""

from __future__ import annotations

import numpy as np

from harness.api import SearchStrategy, SearchView
from harness.core.errors import MethodError


class Reinforce(SearchStrategy):
    """REINFORCE: an independent categorical policy per position, trained on the search
    metric.

    As in NB201/NATS-Bench: reward = validation accuracy (here in [0, 1]), an exponential
    moving-average baseline (momentum 0.9), Adam on the policy logits (lr 0.01). Positions
    are the oracle's ``choice_sizes``: NB201/TNB101 edges or cells; on NB101, as in its
    paper, a Bernoulli per adjacency bit and a categorical per interior op. Samples that are
    not an arch of the table (invalid cells, TNB101 macro gaps) are redrawn for free.
    """

    version = "2"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr=lr, momentum=momentum)
        self.lr = lr
        self.momentum = momentum

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        sizes = np.array(oracle.choice_sizes)
        E, K = len(sizes), int(sizes.max())
        valid = np.arange(K)[None, :] < sizes[:, None]
        theta = np.zeros((E, K))
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        b1, b2, eps = 0.9, 0.999, 1e-8
        baseline = None
        step = 0
        while True:
            z = np.where(valid, theta, -np.inf)
            z = np.exp(z - z.max(axis=1, keepdims=True))
            probs = z / z.sum(axis=1, keepdims=True)
            for _ in range(10_000):  # rejection-sample archs the space contains
                ops = np.array([rng.choice(k, p=p[:k]) for k, p in zip(sizes, probs,
                                                                        strict=True)])
                arch = oracle.index_of_choices(ops)
                if arch is not None:
                    break
            else:
                raise MethodError("REINFORCE: none of 10,000 samples is an arch of this table "
                                  "(a partial table? NB101 needs the full official one)")
            reward = oracle.query(arch) / 100.0
            baseline = reward if baseline is None else (
                self.momentum * baseline + (1 - self.momentum) * reward)
            # gradient ascent on (reward - baseline) * log pi(ops): d/dtheta = onehot - probs
            grad = -probs
            grad[np.arange(E), ops] += 1.0
            grad *= reward - baseline
            step += 1
            m = b1 * m + (1 - b1) * grad
            v = b2 * v + (1 - b2) * grad**2
            theta += self.lr * (m / (1 - b1**step)) / (np.sqrt(v / (1 - b2**step)) + eps)
