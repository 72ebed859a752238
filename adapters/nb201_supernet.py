"""The NAS-Bench-201 weight-sharing supernet: every edge of the cell holds all 5 operations.

Follows the reference search models of NAS-Bench-201 (D-X-Y/AutoDL-Projects,
``models/cell_searchs``): the NB201 macro skeleton (stem, three stages of ``N`` search cells
with ``C``, 2C, 4C channels, stride-2 ResNet blocks, BN-ReLU, pooling, classifier); edges in
the official string order ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2`` and operations in
``adapters.nb201_space.OPS`` order. The cell operations' BatchNorm takes the reference
code's options: ``affine=False`` (then the convolutions carry a bias) and
``track_running_stats`` (False in the reference DARTS/GDAS/RSPS searches: BN always
normalises with the current batch's statistics).

One supernet serves every one-shot method; the method chooses how an edge combines its
operations for a forward pass:

* :class:`Weighted` -- ``sum_k w[e, k] * op_k(x)`` (DARTS softmax, DrNAS Dirichlet sample);
  the ``none`` op contributes exactly zero and is not computed; computed per source node
  (one wider convolution per kind for the edges leaving a node: ``adapters.nb201_fused``)
  where the numbers are the same, edge by edge otherwise.
* :class:`Hard` -- GDAS: only the sampled op is computed, scaled by its straight-through
  weight; the other ops add their (zero-valued) weights so their logits get gradients.
* :class:`SinglePath` -- one op per edge (RSPS, SPOS, FairNAS, and evaluating any cell with
  inherited weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from adapters.nb201_fused import fusable, weighted_forward
from adapters.nb201_model import build_skeleton, make_op
from adapters.nb201_space import EDGES, NUM_EDGES, NUM_OPS, OPS

NONE = OPS.index("none")
SKIP = OPS.index("skip_connect")


@dataclass(frozen=True)
class Weighted:
    """Every op of edge ``e`` weighted by ``weights[e]`` (a (6, 5) tensor). Options of the
    robust DARTS variants: ``active`` (6, 5) marks the ops still computed (P-DARTS drops
    ops; a dropped op must have weight 0); ``edge_scale`` (6,) multiplies each edge's output
    (PC-DARTS edge normalisation); ``aux_skip`` adds ``aux_skip * x`` to every edge outside
    the weights (DARTS-'s auxiliary skip); ``skip_drop`` is a dropout rate on the
    skip_connect outputs, drawn from ``generator`` (P-DARTS)."""

    weights: torch.Tensor
    active: Any = None
    edge_scale: torch.Tensor | None = None
    aux_skip: float = 0.0
    skip_drop: float = 0.0
    generator: Any = None


@dataclass(frozen=True)
class Hard:
    """GDAS: edge ``e`` computes op ``index[e]`` times ``weights[e, index[e]]`` (value 1)."""

    weights: torch.Tensor
    index: Sequence[int]


@dataclass(frozen=True)
class SinglePath:
    """One op per edge: ``ops[e]`` in OPS order (the NB201 encoding of a cell)."""

    ops: Sequence[int]


Path = Weighted | Hard | SinglePath


class SearchCell(nn.Module):
    """An NB201 cell whose 6 edges each hold the 5 candidate operations."""

    def __init__(self, c: int, affine: bool, track_running_stats: bool, partial: int = 1):
        super().__init__()
        if c % partial:
            raise ValueError(f"{c} channels cannot be split into {partial} parts")
        #: PC-DARTS: the ops see 1/partial of the channels, the rest bypass the edge
        self.partial = partial
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(op, c // partial, affine, track_running_stats)
                          for op in OPS) for _ in EDGES)
        #: a weighted path runs per source node (adapters.nb201_fused) where it can
        self.fused = True

    def forward(self, x: torch.Tensor, path: Path) -> torch.Tensor:
        if self.fused and isinstance(path, Weighted) and fusable(self, path):
            return weighted_forward(self, x, path)
        return self.forward_edges(x, path)

    def forward_edges(self, x: torch.Tensor, path: Path) -> torch.Tensor:
        """Edge by edge, as the reference code computes it (every path, every option)."""
        nodes = [x]
        e = 0
        for j in range(1, 4):
            acc: torch.Tensor | None = None
            for i in range(j):
                out = self._edge(e, nodes[i], path)
                if out is not None:
                    acc = out if acc is None else acc + out
                e += 1
            nodes.append(acc if acc is not None else x.mul(0.0))
        return nodes[3]

    def _edge(self, e: int, x: torch.Tensor, path: Path) -> torch.Tensor | None:
        if self.partial == 1:
            return self._ops(e, x, path)
        # PC-DARTS: ops on the first C/K channels, the others pass through; channel shuffle
        k = x.shape[1] // self.partial
        y = self._ops(e, x[:, :k], path)
        y = torch.cat([y if y is not None else x[:, :k].mul(0.0), x[:, k:]], dim=1)
        n, c, h, w = y.shape
        return y.view(n, self.partial, c // self.partial, h, w).transpose(1, 2).reshape(
            n, c, h, w)

    def _ops(self, e: int, x: torch.Tensor, path: Path) -> torch.Tensor | None:
        ops = self.edges[e]
        if isinstance(path, SinglePath):
            k = int(path.ops[e])
            return None if k == NONE else ops[k](x)
        if isinstance(path, Hard):
            k, w = int(path.index[e]), path.weights[e]
            out = w[k] * ops[k](x) if k != NONE else x.mul(0.0) * w[k]
            others = sum(w[o] for o in range(NUM_OPS) if o != k)
            return out + others
        w = path.weights[e]
        out = None
        for k in range(NUM_OPS):
            if k == NONE or (path.active is not None and not path.active[e][k]):
                continue  # zero output: contributes nothing, its weight gets no gradient
            y = ops[k](x)
            if k == SKIP and path.skip_drop > 0:
                keep = torch.rand(y.shape, generator=path.generator, device=y.device)
                y = y * (keep >= path.skip_drop) / (1 - path.skip_drop)
            y = y * w[k]
            out = y if out is None else out + y
        if path.aux_skip:
            out = x * path.aux_skip if out is None else out + x * path.aux_skip
        if path.edge_scale is not None and out is not None:
            out = out * path.edge_scale[e]
        return out


class Supernet(nn.Module):
    """The NB201 skeleton around one shared :class:`SearchCell` type (weights per cell);
    ``fused=False`` computes weighted paths edge by edge (the reference's order)."""

    def __init__(self, num_classes: int, C: int = 16, N: int = 5, affine: bool = False,
                 track_running_stats: bool = False, partial_channels: int = 1,
                 fused: bool = True):
        super().__init__()
        self.C, self.N = C, N
        build_skeleton(self, C, N, num_classes,
                       lambda c: SearchCell(c, affine, track_running_stats, partial_channels),
                       nn.ModuleList)
        self.set_fused(fused)

    def set_fused(self, fused: bool) -> None:
        """Per source node (True) or edge by edge (False) for weighted paths."""
        for cell in self.cells:
            if isinstance(cell, SearchCell):
                cell.fused = fused

    def forward(self, x: torch.Tensor, path: Path) -> torch.Tensor:
        h = self.stem(x)
        for cell in self.cells:
            h = cell(h, path) if isinstance(cell, SearchCell) else cell(h)
        return self.classifier(self.pool(self.lastact(h)).flatten(1))


def skip_edges(ops: Sequence[int]) -> int:
    """Number of ``skip_connect`` edges of a cell (the collapse measure)."""
    return int(sum(int(o) == SKIP for o in ops))


def argmax_cell(weights) -> tuple[int, ...]:
    """The NB201 reference derivation: the strongest op of every edge, ``none`` included."""
    w = torch.as_tensor(weights)
    assert w.shape == (NUM_EDGES, NUM_OPS), w.shape
    return tuple(int(i) for i in w.argmax(dim=1))
