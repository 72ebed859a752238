"""``grad_norm`` (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021)."""

from harness.api import Proxy
from methods.proxies._common import weight_layers


class GradNorm(Proxy):
    """Sum over layers of the L2 norm of the cross-entropy gradient at initialisation."""

    shared_pass = "backward"

    def _observe(self, ctx) -> None:
        return None

    def _collect(self, ctx, observed, outcome) -> float:
        return float(sum(m.weight.grad.detach().norm() for m in weight_layers(ctx.model)
                         if m.weight.grad is not None))
