"""``zen``: Zen-score (Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image
Recognition", ICCV 2021)."""

import math

import torch
from torch import nn

from harness.api import Proxy


class ZenScore(Proxy):
    """log E_x ||f(x) - f(x + a*e)||_1 - log a + sum over BN layers of log sqrt(mean
    running variance), with Gaussian weights, Gaussian inputs x and e, f = the pre-pooling
    feature map (the L1 norm over C, H, W, averaged over the batch) and a = 0.01 (the paper's
    mixup gamma), the network in training mode.

    The BN term reads each layer's ``running_var`` after the two forwards, as the Zen-NAS
    reference implementation does (running statistics reset to mean 0 / variance 1 by the
    harness's initialisation, updated with the layer's own momentum, 0.1 for NB201). A conv-BN
    op that reads an all-zero node (e.g. the edge into node 1 is ``none``) has batch variance
    0; the exact batch variance would add log(0) = -inf and make about one NB201 cell in
    seven NaN, whereas the running variance stays >= (1 - momentum)^2, so the score is
    finite, as the published scores are. Cells whose output does not depend on the input
    have f(x) = f(x + a*e): zen is undefined there and the harness ranks them last.
    """

    needs_images = False
    mutates_model = True  # Gaussian weights; reads fresh BN running statistics
    undefined_on_disconnected = True
    version = "2"  # 1: exact batch variance through hooks (log 0 on zero-variance BN)

    alpha = 1e-2

    def _score(self, ctx) -> float:
        model, g = ctx.model.train(), ctx.generator
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    m.weight.copy_(torch.randn(m.weight.shape, generator=g))
        shape = ctx.inputs.shape
        x = torch.randn(shape, generator=g).to(ctx.device)
        e = torch.randn(shape, generator=g).to(ctx.device)
        feat = model.features  # the pre-pooling feature map
        with torch.no_grad():
            f1 = feat(x)
            f2 = feat(x + self.alpha * e)
            delta = (f1 - f2).abs().sum(dim=(1, 2, 3)).mean()
            bn = sum(0.5 * math.log(float(m.running_var.mean())) for m in model.modules()
                     if isinstance(m, nn.modules.batchnorm._BatchNorm)
                     and m.running_var is not None)
        return float(torch.log(delta)) - math.log(self.alpha) + bn
