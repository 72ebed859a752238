"""``grasp`` (Wang et al., "Picking Winning Tickets Before Training by Preserving Gradient
Flow", ICLR 2020; as a NAS proxy: Abdelfattah et al., ICLR 2021)."""

import torch
import torch.nn.functional as F

from harness.api import Proxy
from methods.proxies._common import weight_layers


class Grasp(Proxy):
    """Gradient-flow preservation: sum of -w * (H g) (Hessian-gradient product)."""

    mutates_model = False  # weights untouched (its forwards move BN running statistics)
    version = "1"

    def _score(self, ctx) -> float:
        weights = [m.weight for m in weight_layers(ctx.model)]
        ctx.model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(ctx.model(ctx.inputs), ctx.targets)
        g = torch.autograd.grad(loss, weights)
        loss = F.cross_entropy(ctx.model(ctx.inputs), ctx.targets)
        g2 = torch.autograd.grad(loss, weights, create_graph=True)
        z = sum((a * b.detach()).sum() for a, b in zip(g2, g, strict=True))
        hg = torch.autograd.grad(z, weights)
        return float(sum((-w.detach() * h).sum() for w, h in zip(weights, hg, strict=True)))
