"""The per-source-node weighted cell (adapters/nb201_fused.py) against the edge-by-edge
cell it replaces, in float64: same logits, same gradients w.r.t. every weight and the edge
weights, for every option of a weighted path it accepts. (The comparison with the NB201
authors' TinyNetworkDarts, tests/test_oneshot_reference.py, runs the fused path: it is the
supernet's default.)"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from adapters.nb201_fused import avg_pool_3x3, fusable
from adapters.nb201_space import NUM_EDGES, NUM_OPS
from adapters.nb201_supernet import NONE, SKIP, Supernet, Weighted

TOL = 1e-12


@pytest.fixture(autouse=True)
def _float64():
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(dtype)


def _run(net: Supernet, fused: bool, path_of, x, y):
    """(logits, edge-weight gradient, weight gradients) of one forward+backward."""
    net.set_fused(fused)
    net.zero_grad(set_to_none=True)
    a = torch.randn(NUM_EDGES, NUM_OPS, generator=torch.Generator().manual_seed(5))
    a[1, NONE] += 2.0  # 'none' strongest on one edge
    a[4, SKIP] += 1.0
    a.requires_grad_(True)
    logits = net(x, path_of(a.softmax(-1)))
    F.cross_entropy(logits, y).backward()
    return logits.detach(), a.grad, [p.grad for p in net.parameters()]


def _batch(n: int = 6):
    g = torch.Generator().manual_seed(3)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


@pytest.mark.parametrize("option", ["plain", "aux_skip", "edge_scale", "affine"])
def test_fused_cell_equals_the_edge_by_edge_cell(option):
    torch.manual_seed(0)
    net = Supernet(10, C=8, N=2, affine=option == "affine")
    with torch.no_grad():  # affine BN parameters away from (1, 0), so they matter
        for p in net.parameters():
            p.add_(0.05 * torch.randn(p.shape))
    scale = torch.rand(NUM_EDGES, generator=torch.Generator().manual_seed(9)) + 0.5
    kw = {"aux_skip": {"aux_skip": 0.3}, "edge_scale": {"edge_scale": scale}}.get(option, {})
    x, y = _batch()
    fused = _run(net, True, lambda w: Weighted(w, **kw), x, y)
    edges = _run(net, False, lambda w: Weighted(w, **kw), x, y)
    assert float((fused[0] - edges[0]).abs().max()) <= TOL
    assert fused[1].abs().max() > 0
    assert float((fused[1] - edges[1]).abs().max()) <= TOL
    for p, q in zip(fused[2], edges[2], strict=True):
        assert (p is None) == (q is None)
        if p is not None:
            assert float((p - q).abs().max()) <= TOL


def test_what_the_fused_cell_refuses_goes_edge_by_edge():
    """Running statistics, partial channels, dropped ops and skip dropout change what one
    wide BatchNorm / one wide convolution would compute: those take the edge path."""
    w = torch.full((NUM_EDGES, NUM_OPS), 0.2)
    plain = Supernet(10, C=8, N=1).cells[0]
    assert fusable(plain, Weighted(w))
    assert not fusable(Supernet(10, C=8, N=1, track_running_stats=True).cells[0], Weighted(w))
    assert not fusable(Supernet(10, C=8, N=1, partial_channels=4).cells[0], Weighted(w))
    assert not fusable(plain, Weighted(w, active=torch.ones(NUM_EDGES, NUM_OPS, dtype=bool)))
    assert not fusable(plain, Weighted(w, skip_drop=0.1))


@pytest.mark.parametrize("size", [32, 16, 8, 3])
def test_avg_pool_equals_the_nb201_pooling(size):
    """The depthwise-convolution pooling is NB201's AvgPool2d(3, 1, 1,
    count_include_pad=False): border pixels average over their 4 or 6 neighbours only."""
    x = torch.randn(2, 5, size, size, generator=torch.Generator().manual_seed(1))
    ref = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)(x)
    got = avg_pool_3x3(x)
    assert float((got - ref).abs().max()) <= TOL
    # an independent fact: the corner of a ones-image averaged over 4 pixels is still 1
    # and the corner of the image 1 at (0, 0) only is 1/4
    e = torch.zeros(1, 1, size, size)
    e[0, 0, 0, 0] = 1.0
    assert float(avg_pool_3x3(e)[0, 0, 0, 0]) == pytest.approx(0.25)
