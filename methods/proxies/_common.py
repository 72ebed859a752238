"""Helpers shared by the proxies: weight layers and the cross-entropy backward."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """Conv and linear layers (the prunable weights the proxy papers score)."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def loss_backward(ctx) -> torch.Tensor:
    """Zero grads, forward the minibatch, back-propagate cross-entropy; return the loss."""
    ctx.model.zero_grad(set_to_none=True)
    loss = F.cross_entropy(ctx.model(ctx.inputs), ctx.targets)
    loss.backward()
    return loss
