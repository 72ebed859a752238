"""``snip`` (Lee et al., ICLR 2019; as a NAS proxy: Abdelfattah et al., ICLR 2021)."""

from harness.api import Proxy
from methods.proxies._common import weight_layers


class Snip(Proxy):
    """Connection sensitivity: sum of |dL/dw * w| over all conv/linear weights."""

    shared_pass = "backward"

    def _observe(self, ctx) -> None:
        return None

    def _collect(self, ctx, observed, outcome) -> float:
        return float(sum((m.weight.grad * m.weight).detach().abs().sum()
                         for m in weight_layers(ctx.model) if m.weight.grad is not None))
