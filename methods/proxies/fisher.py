"""``fisher`` (Theis et al., 2018; Turner et al., BlockSwap, ICLR 2020; as a NAS proxy:
Abdelfattah et al., ICLR 2021)."""

import torch

from harness.api import Proxy
from methods.proxies._common import loss_backward


class Fisher(Proxy):
    """Sum over the channels of every cell convolution's output of
    0.5 * mean_batch( (sum_hw activation * dL/dactivation)^2 )."""

    def _score(self, ctx) -> float:
        acts: list[torch.Tensor] = []

        def keep(_m, _inp, out):
            out.retain_grad()
            acts.append(out)

        hooks = [m.register_forward_hook(keep) for m in ctx.model.modules()
                 if isinstance(m, torch.nn.Conv2d)]
        try:
            loss_backward(ctx)
        finally:
            for h in hooks:
                h.remove()
        total = 0.0
        for a in acts:
            if a.grad is None:
                continue
            per_channel = (a.detach() * a.grad).sum(dim=(2, 3))
            total += float((0.5 * per_channel.pow(2).mean(0)).sum())
        return total
