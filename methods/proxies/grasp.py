"""``grasp`` (Wang et al., "Picking Winning Tickets Before Training by Preserving Gradient
Flow", ICLR 2020; as a NAS proxy: Abdelfattah et al., ICLR 2021)."""

import torch

from harness.api import Proxy
from methods.proxies._common import weight_layers


class Grasp(Proxy):
    """Gradient-flow preservation: sum of -w * (H g) over conv/linear weights, g = dL/dw and
    H the Hessian of the cross-entropy, at initialisation. g comes from the shared
    cross-entropy backward (kept differentiable), Hg = d(g . stop_grad(g))/dw: the reference
    implementations' two forwards (one for g, one differentiable) compute the same g twice
    when the minibatch is not split."""

    version = "1"  # same values as its former own two forwards (bitwise, tested)
    shared_pass = "backward"
    pass_needs_graph = True

    def _observe(self, ctx) -> None:
        return None

    def _collect(self, ctx, observed, outcome) -> float:
        pairs = [(m.weight, m.weight.grad) for m in weight_layers(ctx.model)
                 if m.weight.grad is not None]
        z = sum((g * g.detach()).sum() for _, g in pairs)
        hg = torch.autograd.grad(z, [w for w, _ in pairs])
        return float(sum((-w.detach() * h).sum() for (w, _), h in zip(pairs, hg, strict=True)))
