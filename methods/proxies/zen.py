"""``zen``: Zen-score (Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image
Recognition", ICCV 2021)."""

import math

import torch
from torch import nn

from harness.api import Proxy


class ZenScore(Proxy):
    """log E||f(x) - f(x + a*e)||_F - log a + sum over BN layers of log sqrt(mean batch
    variance), with Gaussian weights and Gaussian inputs, f = the pre-pooling feature map,
    a = 0.01 (the paper's mixup gamma)."""

    needs_images = False

    alpha = 1e-2

    def _score(self, ctx) -> float:
        model, g = ctx.model, ctx.generator
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    m.weight.copy_(torch.randn(m.weight.shape, generator=g))
        variances: list[torch.Tensor] = []
        hooks = [m.register_forward_hook(
            lambda _m, inp, _o: variances.append(inp[0].var(dim=(0, 2, 3)).mean()))
            for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        shape = ctx.inputs.shape
        x = torch.randn(shape, generator=g).to(ctx.device)
        e = torch.randn(shape, generator=g).to(ctx.device)
        feat = model.features  # the pre-pooling feature map

        try:
            with torch.no_grad():
                f1 = feat(x)
                n_bn = len(variances)
                f2 = feat(x + self.alpha * e)
        finally:
            for h in hooks:
                h.remove()
        delta = (f1 - f2).abs().sum(dim=(1, 2, 3)).mean()
        bn = sum(0.5 * torch.log(v) for v in variances[:n_bn])
        return float(torch.log(delta) - math.log(self.alpha) + bn)
