"""The NAS-Bench-101 network in torch (Ying et al., ICML 2019): stem conv3x3-BN-ReLU with
128 channels, 3 stacks of 3 cells with 2x2 max-pool downsampling and channel doubling
between stacks, global average pooling and a dense classifier. Vertex channel counts follow
the published rule (``compute_vertex_channels``); inputs are projected with 1x1 conv-BN-ReLU
and truncated to a vertex's channels. Parameter counts equal the official
``trainable_parameters`` (TF counts conv kernels, BN gamma/beta and the dense layer).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from adapters.nb101_space import prune


class ConvBnRelu(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                         nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.003), nn.ReLU())


def vertex_channels(c_in: int, c_out: int, m: np.ndarray) -> list[int]:
    n = len(m)
    ch = [0] * n
    ch[0], ch[n - 1] = c_in, c_out
    if n == 2:
        return ch
    in_degree = m[1:].sum(axis=0)
    interior = c_out // in_degree[n - 1]
    correction = c_out % in_degree[n - 1]
    for v in range(1, n - 1):
        if m[v, n - 1]:
            ch[v] = interior
            if correction:
                ch[v] += 1
                correction -= 1
    for v in range(n - 3, 0, -1):
        if not m[v, n - 1]:
            for dst in range(v + 1, n - 1):
                if m[v, dst]:
                    ch[v] = max(ch[v], ch[dst])
    return ch


class Cell(nn.Module):
    def __init__(self, m: np.ndarray, ops: Sequence[str], c_in: int, c_out: int):
        super().__init__()
        self.m = m
        n = len(m)
        self.ch = vertex_channels(c_in, c_out, m)
        self.proj = nn.ModuleDict()
        self.ops = nn.ModuleDict()
        for t in range(1, n - 1):
            if m[0, t]:
                self.proj[str(t)] = ConvBnRelu(c_in, self.ch[t], 1)
            op = ops[t]
            self.ops[str(t)] = (ConvBnRelu(self.ch[t], self.ch[t], 3) if op == "conv3x3-bn-relu"
                                else ConvBnRelu(self.ch[t], self.ch[t], 1)
                                if op == "conv1x1-bn-relu" else nn.MaxPool2d(3, 1, 1))
        if m[0, n - 1]:
            self.proj[str(n - 1)] = ConvBnRelu(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, n = self.m, len(self.m)
        tensors = [x]
        concat = []
        for t in range(1, n - 1):
            add = [tensors[s][:, : self.ch[t]] for s in range(1, t) if m[s, t]]
            if m[0, t]:
                add.append(self.proj[str(t)](x))
            tensors.append(self.ops[str(t)](sum(add)))
            if m[t, n - 1]:
                concat.append(tensors[t])
        if not concat:
            return self.proj[str(n - 1)](x)
        out = torch.cat(concat, dim=1) if len(concat) > 1 else concat[0]
        if m[0, n - 1]:
            out = out + self.proj[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    def __init__(self, matrix: np.ndarray, ops: Sequence[str], num_classes: int = 10,
                 stem: int = 128, stacks: int = 3, cells: int = 3):
        super().__init__()
        m, ops = prune(np.asarray(matrix), ops)
        layers: list[nn.Module] = [ConvBnRelu(3, stem, 3)]
        c_in, c = stem, stem
        for s in range(stacks):
            if s:
                layers.append(nn.MaxPool2d(2, 2))
                c *= 2
            for _ in range(cells):
                layers.append(Cell(m, ops, c_in, c))
                c_in = c
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))
