"""``grad_norm`` (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021)."""

from harness.api import Proxy
from methods.proxies._common import loss_backward, weight_layers


class GradNorm(Proxy):
    """Sum over layers of the L2 norm of the cross-entropy gradient at initialisation."""

    def _score(self, ctx) -> float:
        loss_backward(ctx)
        return float(sum(m.weight.grad.detach().norm() for m in weight_layers(ctx.model)
                         if m.weight.grad is not None))
