"""The NAS-Bench-201 network (Dong & Yang, ICLR 2020) built from a cell, in torch.

Topology: stem conv3x3+BN, three stages of N cells (C, 2C, 4C channels) separated by
stride-2 ResNet basic blocks, then BN-ReLU, global average pooling and a linear classifier.
Cell ops follow the official definitions: ``nor_conv_kxk`` = ReLU-Conv-BN, ``avg_pool_3x3``
= 3x3 average pooling (count_include_pad=False), ``skip_connect`` = identity, ``none`` = zero.
With C=16, N=5 the all-``nor_conv_3x3`` cell has 1,531,546 parameters on CIFAR-10.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from adapters.nb201_space import EDGES, OPS


class ReLUConvBN(nn.Sequential):
    """ReLU-Conv-BN. As in the reference code, a BN without affine parameters (the search
    supernets' setting) gives the convolution a bias instead."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=not affine),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, c: int, affine: bool = True, track_running_stats: bool = True
            ) -> nn.Module:
    """One cell operation on ``c`` channels (BN options for the search supernets)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, affine=affine, track_running_stats=track_running_stats)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, affine=affine, track_running_stats=track_running_stats)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(name)


class Cell(nn.Module):
    """One NB201 cell: node j = sum over i<j of op_ji(node i); output = node 3."""

    def __init__(self, ops: Sequence[int], c: int):
        super().__init__()
        self.edges = nn.ModuleList(make_op(OPS[o], c) for o in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for j in range(1, 4):
            acc = None
            for i in range(j):
                out = self.edges[k](nodes[i])
                acc = out if acc is None else acc + out
                k += 1
            nodes.append(acc)
        return nodes[3]


class ResBlock(nn.Module):
    """The stride-2 ResNet basic block between stages (no BN on the shortcut)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


def build_skeleton(module: nn.Module, C: int, N: int, num_classes: int,
                   make_cell: Callable[[int], nn.Module],
                   container: Callable[[list[nn.Module]], nn.Module]) -> None:
    """Give ``module`` the NB201 macro skeleton: stem conv3x3+BN, three stages of ``N`` cells
    (``make_cell(channels)``) at C, 2C, 4C channels with stride-2 ResNet blocks between,
    BN-ReLU, global pooling and a linear classifier (registered in this order, which fixes
    the order in which a network is initialised)."""
    module.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
    layers: list[nn.Module] = []
    c = C
    for stage in range(3):
        if stage:
            layers.append(ResBlock(c, 2 * c))
            c *= 2
        layers.extend(make_cell(c) for _ in range(N))
    module.cells = container(layers)
    module.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
    module.pool = nn.AdaptiveAvgPool2d(1)
    module.classifier = nn.Linear(c, num_classes)


class NB201Network(nn.Module):
    """The NB201 macro skeleton around one cell type."""

    def __init__(self, ops: Sequence[int], num_classes: int, C: int = 16, N: int = 5):
        super().__init__()
        assert len(ops) == len(EDGES)
        build_skeleton(self, C, N, num_classes, lambda c: Cell(ops, c),
                       lambda layers: nn.Sequential(*layers))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pre-pooling feature map (what Zen-score measures)."""
        return self.lastact(self.cells(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


def count_flops(model: nn.Module, resolution: int) -> float:
    """MFLOPs by forward hooks (conv k*k*Cin*Cout*Hout*Wout/groups, linear in*out + out)."""
    total = [0.0]

    def conv_hook(m: nn.Conv2d, _inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        total[0] += k * m.in_channels * m.out_channels / m.groups * out.shape[2] * out.shape[3]

    def linear_hook(m: nn.Linear, _inp, _out):
        total[0] += m.in_features * m.out_features + (m.out_features if m.bias is not None else 0)

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return total[0] / 1e6
