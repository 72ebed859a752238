"""``params``: number of parameters (a baseline proxy; Abdelfattah et al., ICLR 2021)."""

from harness.api import Proxy


class Params(Proxy):
    """Number of trainable parameters of the network (from the benchmark's cost table)."""

    needs_model = False
    needs_images = False

    def _score(self, ctx) -> float:
        return ctx.params
