"""``l2_norm``: sum of the L2 norms of the weights at initialisation (NAS-Bench-Suite-Zero
baseline; Krishnakumar et al., NeurIPS 2022)."""

from harness.api import Proxy
from methods.proxies._common import weight_layers


class L2Norm(Proxy):
    """Sum over conv/linear layers of ||w||_2 at initialisation."""

    mutates_model = False  # reads the weights only
    needs_images = False

    def _score(self, ctx) -> float:
        return float(sum(m.weight.detach().norm() for m in weight_layers(ctx.model)))
