"""TransNAS-Bench-101 backbones in torch (Duan et al., CVPR 2021), written from the published
architecture description: a stem (conv3x3 stride 2 to C/2 + BN, ReLU-conv3x3-BN stride 2 to C),
then one layer per macro digit (1 keep, 2 double channels, 3 halve resolution, 4 both), each
layer two blocks of either the micro cell (NB201-shaped DAG; ops 0 zero, 1 identity or a
factorised reduction when the shape changes, 2 ReLU-conv1x1-BN, 3 ReLU-conv3x3-BN; edges from
the cell input carry the stride and channel change) or, for macro archs, a ResNet basic
block. ``num_classes`` adds global pooling and a linear head (the classification tasks)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int):
        super().__init__(nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
                         nn.BatchNorm2d(c_out))


class FactorizedReduce(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.stride = stride
        self.a = nn.Conv2d(c_in, c_out // 2, 1, stride, bias=False)
        self.b = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = torch.relu(x)
        y = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.a(x), self.b(y)], dim=1))


class Zero(nn.Module):
    def __init__(self, c_out: int, stride: int):
        super().__init__()
        self.c_out, self.stride = c_out, stride

    def forward(self, x):
        n, _, h, w = x.shape
        s = self.stride
        return x.new_zeros(n, self.c_out, (h + s - 1) // s, (w + s - 1) // s)


def _op(code: int, c_in: int, c_out: int, stride: int) -> nn.Module:
    if code == 0:
        return Zero(c_out, stride)
    if code == 1:
        return nn.Identity() if stride == 1 and c_in == c_out else FactorizedReduce(
            c_in, c_out, stride)
    return ReLUConvBN(c_in, c_out, 1 if code == 2 else 3, stride)


class MicroCell(nn.Module):
    def __init__(self, ops: Sequence[int], c_in: int, c_out: int, stride: int):
        super().__init__()
        self.edges = nn.ModuleList()
        k = 0
        for j in range(1, 4):
            for i in range(j):
                self.edges.append(_op(int(ops[k]), c_in if i == 0 else c_out, c_out,
                                      stride if i == 0 else 1))
                k += 1

    def forward(self, x):
        nodes, k = [x], 0
        for j in range(1, 4):
            acc = 0
            for i in range(j):
                acc = acc + self.edges[k](nodes[i])
                k += 1
            nodes.append(acc)
        return nodes[3]


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.a = ReLUConvBN(c_in, c_out, 3, stride)
        self.b = ReLUConvBN(c_out, c_out, 3, 1)
        self.down = None if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.b(self.a(x)) + (x if self.down is None else self.down(x))


class TNB101Backbone(nn.Module):
    def __init__(self, arch: str, num_classes: int | None = None):
        super().__init__()
        parts = arch.split("-")
        c = int(parts[0])
        macro = [int(ch) for ch in parts[1]]
        micro = None if parts[-1] == "basic" else [int(ch) for ch in parts[2].replace("_", "")]
        self.stem = nn.Sequential(nn.Conv2d(3, c // 2, 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(c // 2), ReLUConvBN(c // 2, c, 3, 2))
        layers: list[nn.Module] = []
        for digit in macro:
            out = c * 2 if digit % 2 == 0 else c
            stride = 2 if digit > 2 else 1
            for b in range(2):
                s = stride if b == 0 else 1
                layers.append(BasicBlock(c, out, s) if micro is None
                              else MicroCell(micro, c, out, s))
                c = out
        self.layers = nn.Sequential(*layers)
        self.out_channels = c
        self.head = nn.Linear(c, num_classes) if num_classes else None

    def features(self, x):
        """The backbone's output feature map (what Zen-score measures)."""
        return self.layers(self.stem(x))

    def forward(self, x):
        x = self.features(x)
        if self.head is None:
            return x
        return self.head(x.mean(dim=(2, 3)))
