"""``synflow`` (Tanaka et al., "Pruning neural networks without any data by iteratively
conserving synaptic flow", NeurIPS 2020; as a NAS proxy: Abdelfattah et al., ICLR 2021)."""

import torch
from torch import nn

from harness.api import Proxy
from methods.proxies._common import weight_layers


class Synflow(Proxy):
    """Data-free: with |w| for every weight, BN removed and an all-ones input, computed in
    float64, the score is log(sum |w * dR/dw|) for R = sum of the outputs (log-space so
    deep networks do not overflow; a monotone transform, ranks are unchanged)."""

    #: no path: R does not depend on any cell weight and the score is log(0)
    undefined_on_disconnected = True

    needs_images = False
    mutates_model = True  # |w| in float64 without BN / Gaussian weights

    def _score(self, ctx) -> float:
        model = ctx.model.double()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):  # the data-free definition has no BN
                m.forward = lambda x: x  # type: ignore[method-assign]
        with torch.no_grad():
            for p in model.parameters():
                p.abs_()
        model.zero_grad(set_to_none=True)
        x = torch.ones((1, *ctx.inputs.shape[1:]), dtype=torch.float64, device=ctx.device)
        model(x).sum().backward()
        with torch.no_grad():
            total = float(sum((m.weight * m.weight.grad).abs().sum()
                              for m in weight_layers(model) if m.weight.grad is not None))
        return float(torch.log(torch.tensor(total, dtype=torch.float64))) if total > 0 \
            else float("-inf")
