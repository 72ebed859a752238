"""FairDARTS (Chu, Zhou, Zhang & Li, "Fair DARTS: Eliminating Unfair Advantages in
Differentiable Architecture Search", ECCV 2020; code: xiaomi-automl/FairDARTS).

Every op's weight is an independent sigmoid(alpha) (no softmax competition), and the
architecture loss adds the zero-one loss w01 * L01 with L01 = -mean((sigmoid(alpha) -
0.5)^2) and w01 = 10, which pushes every weight towards 0 or 1. Adapted to the NB201 cell:
FairDARTS removes ``none`` from its (DARTS) space and keeps the edges whose weight passes a
threshold; an NB201 cell needs exactly one op per edge from all 5, so the final cell is the
argmax of sigmoid(alpha) on every edge (``none`` included). DARTS-V1 order of steps, the
NB201 reference optimisers, 50 epochs.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from adapters.nb201_supernet import Weighted
from methods.oneshot._common import ARCH_DEFAULTS, ArchParameterMethod, accuracy


class FairDarts(ArchParameterMethod):
    """FairDARTS: independent sigmoid weights plus the zero-one loss."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 50
    defaults: ClassVar[dict[str, Any]] = {**ARCH_DEFAULTS, "zero_one_weight": 10.0}

    def _arch_weights(self, ctx) -> np.ndarray:
        return ctx.state["alpha"].detach().sigmoid().cpu().numpy()

    def _step(self, ctx, train, valid) -> dict:
        alpha = ctx.state["alpha"]
        stats = ctx.train_weights(Weighted(alpha.detach().sigmoid()), train)
        w = alpha.sigmoid()
        loss, logits = ctx.loss(Weighted(w), valid)
        zero_one = -((w - 0.5) ** 2).mean()
        self.arch_step(ctx, loss + self.hyperparameters["zero_one_weight"] * zero_one)
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1]),
                "zero_one_loss": zero_one.detach()}
