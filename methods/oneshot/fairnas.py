"""FairNAS (Chu, Zhang & Xu, "FairNAS: Rethinking Evaluation Fairness of Weight Sharing
Neural Architecture Search", ICCV 2021), on the NAS-Bench-201 supernet.

Strict fairness: every step draws, for every edge, a random permutation of its 5 ops and
builds 5 single-path models from it (model m uses op perm[e][m] on edge e), so every op of
every edge is trained exactly once per step; their gradients on the same batch are
accumulated into one weight update. BN tracks running statistics, recalibrated per
evaluated cell. Search: the same evolutionary algorithm as SPOS (FairNAS used NSGA-II with
accuracy and cost objectives; on NB201's single-objective table the accuracy-only
evolution is the like-for-like comparison with SPOS).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from adapters.nb201_space import NUM_EDGES, NUM_OPS
from adapters.nb201_supernet import SinglePath
from methods.oneshot._common import SinglePathMethod, evolve
from methods.oneshot.spos import EVOLUTION


class FairNas(SinglePathMethod):
    """FairNAS: strict-fairness single-path training, then evolution on inherited weights."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    track_running_stats = True
    defaults: ClassVar[dict[str, Any]] = EVOLUTION

    def _step(self, ctx, train, valid) -> dict:
        perms = np.stack([ctx.rng.permutation(NUM_OPS) for _ in range(NUM_EDGES)])
        paths = [SinglePath(tuple(int(o) for o in perms[:, m])) for m in range(NUM_OPS)]
        return {**ctx.train_weights(paths, train), **self.valid_stats(ctx, paths[0], valid)}

    def _derive(self, ctx) -> tuple[int, ...]:
        return evolve(ctx, **{k: self.hyperparameters[k] for k in EVOLUTION})
