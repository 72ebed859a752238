"""beta-DARTS (Ye, Li, Zhang, Li, Chen & Ouyang, "beta-DARTS: Beta-Decay Regularization for
Differentiable Architecture Search", CVPR 2022; NB201 code: Sunshine-Ye/Beta-DARTS
``nasbench201/train_search.py`` and ``optimizers/darts/architect.py``).

DARTS-V1 with the Beta-Decay regulariser on the architecture step: L_val + lambda * mean
over edges of logsumexp(alpha), lambda growing linearly as 50 * epoch / 100 (so from 0 to
50 over the reference's 100 epochs; here 50 * epoch / epochs). It keeps the softmax's
inputs small and evenly spread, so no op's weight runs away. The reference NB201 run:
100 epochs, weights SGD with weight decay 3e-4 without Nesterov.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from adapters.nb201_supernet import Weighted
from methods.oneshot._common import ARCH_DEFAULTS, ArchParameterMethod, accuracy


class BetaDarts(ArchParameterMethod):
    """beta-DARTS: DARTS-V1 plus the Beta-Decay (logsumexp) regulariser of alpha."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 100
    weight_optimiser = {"weight_decay": 3e-4, "nesterov": False}
    defaults: ClassVar[dict[str, Any]] = {**ARCH_DEFAULTS, "beta_decay_max": 50.0}

    def _epoch_begin(self, ctx) -> None:
        ctx.state["beta_decay_weight"] = (self.hyperparameters["beta_decay_max"]
                                          * ctx.epoch / ctx.epochs)

    def _step(self, ctx, train, valid) -> dict:
        alpha = ctx.state["alpha"]
        loss, logits = ctx.loss(Weighted(alpha.softmax(-1)), valid)
        reg = torch.logsumexp(alpha, dim=-1).mean()
        self.arch_step(ctx, loss + float(ctx.state["beta_decay_weight"]) * reg)
        stats = ctx.train_weights(Weighted(alpha.detach().softmax(-1)), train)
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1]),
                "beta_decay_loss": reg.detach()}
