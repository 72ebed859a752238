"""``snip`` (Lee et al., ICLR 2019; as a NAS proxy: Abdelfattah et al., ICLR 2021)."""

from harness.api import Proxy
from methods.proxies._common import loss_backward, weight_layers


class Snip(Proxy):
    """Connection sensitivity: sum of |dL/dw * w| over all conv/linear weights."""

    def _score(self, ctx) -> float:
        loss_backward(ctx)
        return float(sum((m.weight.grad * m.weight).detach().abs().sum()
                         for m in weight_layers(ctx.model) if m.weight.grad is not None))
