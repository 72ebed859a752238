"""The weighted NB201 search cell computed per source node instead of per edge.

In an NB201 cell the edges leaving one node all read the same tensor: the three edges out of
node 0, the two out of node 1, the one out of node 2. So for a DARTS-style weighted forward
(``sum_k w[e, k] * op_k(x)`` on every edge) this module computes, per source node, the
ReLU once, each convolution kind once as one wider convolution over the concatenated
weights of that node's edges (``n`` edges x C output channels), the average pooling once and
the skip once, and the weighted sum of all of them in one broadcast expression (the edge
weights of the convolutions ride in their BatchNorms' per-channel scale). The
per-edge parameters stay where they are (the supernet's state dict, checkpoints and the
weight copy into the NB201 authors' ``TinyNetworkDarts`` are unchanged): their
concatenation is part of the graph, so gradients flow back to each edge's tensors.

The numbers equal the edge-by-edge forward up to summation order: a BatchNorm without
running statistics normalises every channel with its own batch statistics, so one BN over
``n * C`` channels is ``n`` BNs over C channels (with ``affine=True`` the affine
parameters are concatenated like the convolutions'). Cells whose BN tracks running
statistics, PC-DARTS's partial channels, P-DARTS's dropped ops and skip dropout are not
fused (:func:`fusable`): they take the edge-by-edge path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from adapters.nb201_space import EDGES, OPS

CONV1, CONV3, POOL = OPS.index("nor_conv_1x1"), OPS.index("nor_conv_3x3"), \
    OPS.index("avg_pool_3x3")
SKIP = OPS.index("skip_connect")
#: the edges leaving node i, in the official edge order (their targets are EDGES[e][0])
OUT_EDGES: tuple[tuple[int, ...], ...] = tuple(
    tuple(e for e, (_, src) in enumerate(EDGES) if src == i) for i in range(3))


def fusable(cell, path) -> bool:
    """Whether ``cell`` (a :class:`~adapters.nb201_supernet.SearchCell`) can run ``path``
    per source node with the same numbers as edge by edge."""
    bn = cell.edges[0][CONV3][2]
    return (cell.partial == 1 and not bn.track_running_stats and path.active is None
            and not path.skip_drop)


def _conv_bn(x: torch.Tensor, ops, kind: int, padding: int, w: torch.Tensor) -> torch.Tensor:
    """``sum``-ready ``w[m] * ReLUConvBN_m(x)`` of the ``kind`` op of every edge ``m`` in
    ``ops`` on the (already ReLU'd) ``x``, as one convolution and one BatchNorm whose
    per-channel scale carries the edge weight: (B, len(ops) * C, H, W)."""
    convs = [edge[kind][1] for edge in ops]
    bns = [edge[kind][2] for edge in ops]
    weight = torch.cat([c.weight for c in convs])
    bias = torch.cat([c.bias for c in convs]) if convs[0].bias is not None else None
    y = F.conv2d(x, weight, bias, padding=padding)
    scale = w.repeat_interleave(convs[0].out_channels)
    gamma, beta = scale, None
    if bns[0].affine:
        gamma = torch.cat([b.weight for b in bns]) * scale
        beta = torch.cat([b.bias for b in bns]) * scale
    return F.batch_norm(y, None, None, gamma, beta, True, 0.0, bns[0].eps)


#: (1 / pixels per window, ones kernel) per (channels, H, W, dtype, device)
_INV_COUNT: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def avg_pool_3x3(x: torch.Tensor) -> torch.Tensor:
    """NB201's ``avg_pool_3x3`` (3x3, stride 1, padding 1, ``count_include_pad=False``) as a
    depthwise convolution with a ones kernel times 1 / (the number of pixels in the
    window): the same values up to summation order, about 5x faster forward and backward
    than ``F.avg_pool2d`` on one CPU thread (measured at 64 x 16 x 32 x 32)."""
    c, (h, w) = x.shape[1], x.shape[2:]
    key = (c, h, w, x.dtype, x.device)
    if key not in _INV_COUNT:
        ones = torch.ones(1, 1, h, w, dtype=x.dtype, device=x.device)
        count = F.conv2d(ones, torch.ones(1, 1, 3, 3, dtype=x.dtype, device=x.device),
                         padding=1)
        _INV_COUNT[key] = (1.0 / count, torch.ones(c, 1, 3, 3, dtype=x.dtype, device=x.device))
    inv, kernel = _INV_COUNT[key]
    return F.conv2d(x, kernel, padding=1, groups=c) * inv


def weighted_forward(cell, x: torch.Tensor, path) -> torch.Tensor:
    """Node 3 of ``cell`` under a :class:`~adapters.nb201_supernet.Weighted` ``path``
    (``fusable`` must hold), computed per source node."""
    w = path.weights
    acc: list[torch.Tensor | None] = [None] * 4
    nodes = [x]
    for i, out_edges in enumerate(OUT_EDGES):
        src = nodes[i]
        n = len(out_edges)
        ops = [cell.edges[e] for e in out_edges]
        r = F.relu(src)
        shape = (src.shape[0], n, *src.shape[1:])
        we = w[list(out_edges)]                                   # (n, 5)
        skip_w = we[:, SKIP] + path.aux_skip if path.aux_skip else we[:, SKIP]
        if path.edge_scale is not None:  # PC-DARTS edge normalisation scales the whole edge
            scale = path.edge_scale[list(out_edges)]
            we, skip_w = we * scale[:, None], skip_w * scale
        out = (_conv_bn(r, ops, CONV1, 0, we[:, CONV1])
               + _conv_bn(r, ops, CONV3, 1, we[:, CONV3])).view(shape)
        out = torch.addcmul(out, src.unsqueeze(1), skip_w.view(1, n, 1, 1, 1))
        out = torch.addcmul(out, avg_pool_3x3(src).unsqueeze(1), we[:, POOL].view(1, n, 1, 1, 1))
        for m, e in enumerate(out_edges):
            j = EDGES[e][0]
            acc[j] = out[:, m] if acc[j] is None else acc[j] + out[:, m]
        nodes.append(acc[i + 1])
    return nodes[3]
