"""SDARTS-RS (Chen & Hsieh, "Stabilizing Differentiable Architecture Search via
Perturbation-based Regularization", ICML 2020; NB201 code: xiangning-chen/SmoothDARTS
``nasbench201/train_search.py``, ``attacker/perturb.py``).

Per step: a first-order alpha step on the other pool, then the weights are trained on the
softmaxed alpha plus a random perturbation drawn uniformly from [-eps, eps] per entry,
clipped to [0, 1] and renormalised per edge (``clip`` of the reference); eps grows
linearly 0.03 + (0.3 - 0.03) * epoch / epochs. Training the weights for a neighbourhood of
alpha smooths the validation loss landscape around it. The reference NB201 run: 100
epochs, weights SGD with weight decay 3e-4 without Nesterov.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from adapters.nb201_supernet import Weighted
from methods.oneshot._common import ARCH_DEFAULTS, ArchParameterMethod, accuracy


def clip_simplex(w: torch.Tensor) -> torch.Tensor:
    """The reference's ``clip``: clamp to [0, 1] and renormalise every edge (an all-zero
    edge keeps its largest entry)."""
    top = torch.nn.functional.one_hot(w.argmax(-1), w.shape[-1]).to(w.dtype)
    c = w.clamp(0, 1)
    c = torch.where(c.sum(-1, keepdim=True) == 0, top, c)
    return c / c.sum(-1, keepdim=True)


class SdartsRs(ArchParameterMethod):
    """SDARTS-RS: weights trained on randomly perturbed softmax(alpha)."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 100
    weight_optimiser = {"weight_decay": 3e-4, "nesterov": False}
    defaults: ClassVar[dict[str, Any]] = {**ARCH_DEFAULTS, "eps_min": 0.03, "eps_max": 0.3}

    def _epoch_begin(self, ctx) -> None:
        hp = self.hyperparameters
        ctx.state["epsilon"] = hp["eps_min"] + (hp["eps_max"] - hp["eps_min"]) * (
            ctx.epoch / ctx.epochs)

    def perturb(self, ctx, w: torch.Tensor, train) -> torch.Tensor:
        eps = float(ctx.state["epsilon"])
        noise = torch.rand(w.shape, generator=ctx.torch_gen, device=w.device) * 2 * eps - eps
        return clip_simplex(w + noise)

    def _step(self, ctx, train, valid) -> dict:
        alpha = ctx.state["alpha"]
        loss, logits = ctx.loss(Weighted(alpha.softmax(-1)), valid)
        self.arch_step(ctx, loss)
        w = self.perturb(ctx, alpha.detach().softmax(-1), train)
        stats = ctx.train_weights(Weighted(w), train)
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}
