"""Helpers shared by the proxies: the weight layers they score."""

from __future__ import annotations

from torch import nn


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """Conv and linear layers (the prunable weights the proxy papers score)."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
