"""GAEA (Li, Khodak, Balcan & Talwalkar, "Geometry-Aware Gradient Algorithms for Neural
Architecture Search", ICLR 2021; code: liamcli/gaea_release), DARTS backbone ("GAEA DARTS
(ERM)").

The architecture weights live on the simplex of every edge and are updated by exponentiated
gradient (mirror descent with the entropy): theta <- theta * exp(-lr * dL_val/dtheta),
renormalised, from the uniform point; lr 0.1, no weight decay on theta. The supernet mixes
the ops with theta directly. Per step: one weight step, then one theta step (first order).
The reference NB201 run: 25 epochs with C=24; the harness's supernet size is the profile's
(C=16 in the paper profile). The final cell is the argmax of theta.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from adapters.nb201_space import NUM_EDGES, NUM_OPS
from adapters.nb201_supernet import Weighted
from methods.oneshot._common import ArchParameterMethod, accuracy


class Gaea(ArchParameterMethod):
    """GAEA: exponentiated-gradient updates of simplex-valued architecture weights."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 25
    defaults: ClassVar[dict[str, Any]] = {"eg_lr": 0.1}

    def _setup(self, ctx) -> None:
        ctx.state["theta"] = torch.full((NUM_EDGES, NUM_OPS), 1.0 / NUM_OPS,
                                        device=ctx.device)

    def _arch_weights(self, ctx) -> np.ndarray:
        return ctx.state["theta"].cpu().numpy()

    def _step(self, ctx, train, valid) -> dict:
        theta = ctx.state["theta"]
        stats = ctx.train_weights(Weighted(theta), train)
        t = theta.clone().requires_grad_(True)
        loss, logits = ctx.loss(Weighted(t), valid)
        (g,) = torch.autograd.grad(loss, [t])
        with torch.no_grad():
            new = theta * torch.exp(-self.hyperparameters["eg_lr"] * g)
            theta.copy_(new / new.sum(-1, keepdim=True))
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}
