"""``flops``: multiply-accumulates of one forward pass (a baseline proxy)."""

from harness.api import Proxy


class Flops(Proxy):
    """FLOPs (M multiply-accumulates, the NB201 convention) from the benchmark's cost table."""

    needs_model = False
    needs_images = False
    needs_cost = "flops"

    def _score(self, ctx) -> float:
        return ctx.flops
