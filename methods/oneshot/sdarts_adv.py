"""SDARTS-ADV (Chen & Hsieh, ICML 2020; NB201 code: xiangning-chen/SmoothDARTS,
``attacker/perturb.py: Linf_PGD_alpha``).

As SDARTS-RS, but the perturbation of softmax(alpha) is adversarial: a 7-step L-inf PGD
ascent of the training loss from a random start in [-eps, eps], step size 2 * eps / 7,
projected to the eps-ball and clipped to the simplex after every step, with the network in
evaluation mode as in the reference. The weights are then trained on the worst-case
architecture weights found.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from adapters.nb201_supernet import Weighted
from methods.oneshot.sdarts_rs import SdartsRs, clip_simplex


class SdartsAdv(SdartsRs):
    """SDARTS-ADV: weights trained on adversarially perturbed softmax(alpha)."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    defaults: ClassVar[dict[str, Any]] = {**SdartsRs.defaults, "pgd_steps": 7}

    def perturb(self, ctx, w: torch.Tensor, train) -> torch.Tensor:
        eps, steps = float(ctx.state["epsilon"]), int(self.hyperparameters["pgd_steps"])
        start = torch.rand(w.shape, generator=ctx.torch_gen, device=w.device) * 2 * eps - eps
        p = clip_simplex(w + start)
        ctx.supernet.eval()
        try:
            for _ in range(steps):
                p = p.detach().requires_grad_(True)
                loss, _ = ctx.loss(Weighted(p), train)
                (g,) = torch.autograd.grad(loss, [p])
                p = p.detach() + (2 * eps / steps) * g.sign()
                p = clip_simplex(w + (p - w).clamp(-eps, eps))
        finally:
            ctx.supernet.train()
        return p.detach()
