"""The robust DARTS variants: each mechanism does what its paper says, on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adapters.nb201_space import OPS
from adapters.nb201_supernet import SKIP, SearchCell, Weighted
from harness.core.registry import default_registry
from harness.testing import check_oneshot

VARIANTS = ("darts-minus", "fairdarts", "pdarts", "sdarts-rs", "sdarts-adv", "gaea",
            "pc-darts", "beta-darts")


@pytest.mark.slow
@pytest.mark.parametrize("name", VARIANTS)
def test_variants_pass_the_conformance_suite(name, nb201):
    torch.set_num_threads(1)
    assert len(check_oneshot(default_registry().get(name), nb201)) == 5


def _ctx(name: str):
    from tests.bench.oneshot_vs_reference import our_context

    return our_context(name, 4, 1)


def _batch(seed: int):
    from tests.bench.oneshot_vs_reference import batch

    return batch(seed)


def test_pdarts_drops_ops_by_stage_and_keeps_two_skips():
    method, ctx = _ctx("pdarts")
    ctx.epochs = 9
    with torch.no_grad():
        ctx.state["alpha"].copy_(torch.arange(5.0).repeat(6, 1))  # avg_pool strongest
        ctx.state["alpha"][:, SKIP] = torch.tensor([9.0, 8, 7, 6, 5, 4])  # then skip
    for epoch, kept in ((0, 5), (3, 4), (6, 3), (8, 3)):
        ctx.epoch = epoch
        method._epoch_begin(ctx)
        assert ctx.state["active"].sum(1).tolist() == [kept] * 6
    assert set(np.flatnonzero(ctx.state["active"][0].numpy())) == {SKIP, 3, 4}
    cell = method._derive(ctx)  # every edge prefers skip; only the two strongest keep it
    assert [OPS[o] for o in cell] == ["skip_connect", "skip_connect"] + ["avg_pool_3x3"] * 4
    ctx.epoch = 7  # last stage: skip dropout 0.7 decays linearly to 0 at its last epoch
    method._epoch_begin(ctx)
    assert ctx.state["skip_drop"] == pytest.approx(0.7 * 1 / 3)


def test_pc_darts_edge_mixes_a_quarter_of_the_channels():
    cell = SearchCell(8, affine=False, track_running_stats=False, partial=4)
    x = torch.randn(2, 8, 5, 5)
    onehot = torch.zeros(6, 5)
    onehot[:, SKIP] = 1
    y = cell._edge(0, x, Weighted(onehot))
    # skip on the first 2 channels, the other 6 pass through, then a 4-group shuffle
    want = x.view(2, 4, 2, 5, 5).transpose(1, 2).reshape(2, 8, 5, 5)
    assert torch.equal(y, want)
    from methods.oneshot.pc_darts import edge_scale

    s = edge_scale(torch.randn(6))
    assert s[0] == 1 and torch.isclose(s[1:3].sum(), torch.tensor(1.0)) and torch.isclose(
        s[3:].sum(), torch.tensor(1.0))


def test_darts_minus_auxiliary_skip_and_its_decay():
    cell = SearchCell(4, affine=False, track_running_stats=False)
    x = torch.randn(2, 4, 5, 5)
    zero = torch.zeros(6, 5)
    assert torch.equal(cell._edge(0, x, Weighted(zero, aux_skip=0.25)), 0.25 * x)
    method, ctx = _ctx("darts-minus")
    ctx.epochs = 10
    for epoch, beta in ((0, 1.0), (5, 0.5), (9, 0.1)):
        ctx.epoch = epoch
        method._epoch_begin(ctx)
        assert ctx.state["aux_skip_beta"] == pytest.approx(beta)


def test_sdarts_adversarial_perturbation_raises_the_training_loss():
    from methods.oneshot.sdarts_rs import clip_simplex

    method, ctx = _ctx("sdarts-adv")
    ctx.epoch, ctx.epochs = 9, 10
    method._epoch_begin(ctx)
    train = _batch(0)
    w = ctx.state["alpha"].detach().softmax(-1)
    adv = method.perturb(ctx, w, train)
    assert torch.allclose(adv.sum(-1), torch.ones(6)) and adv.min() >= 0
    assert (adv - w).abs().max() <= ctx.state["epsilon"] + 1e-6
    ctx.supernet.eval()
    with torch.no_grad():
        base = ctx.loss(Weighted(w), train)[0].item()
        attacked = ctx.loss(Weighted(adv), train)[0].item()
    assert attacked > base
    # an edge clamped to all zeros keeps its largest entry (the reference's clip)
    assert torch.equal(clip_simplex(torch.tensor([[-1.0, 0, 0, 0, 0]])), torch.eye(5)[1:2])


def test_gaea_is_an_exponentiated_gradient_step_on_the_simplex():
    method, ctx = _ctx("gaea")
    theta = ctx.state["theta"].clone()
    seen = {}
    real_grad = torch.autograd.grad

    def spy(out, inputs, *a, **kw):
        g = real_grad(out, inputs, *a, **kw)
        seen["g"] = g[0].detach().clone()
        return g

    torch.autograd.grad = spy
    try:
        method._step(ctx, _batch(0), _batch(1))
    finally:
        torch.autograd.grad = real_grad
    want = theta * torch.exp(-0.1 * seen["g"])
    assert torch.allclose(ctx.state["theta"], want / want.sum(-1, keepdim=True), atol=1e-7)
    assert torch.allclose(ctx.state["theta"].sum(-1), torch.ones(6))


def test_fairdarts_zero_one_loss_pushes_weights_away_from_one_half():
    method, ctx = _ctx("fairdarts")
    with torch.no_grad():
        ctx.state["alpha"].copy_(torch.full((6, 5), 0.3))
        ctx.state["alpha"][:, 0] = -0.3
    alpha = ctx.state["alpha"]
    w = alpha.sigmoid()
    (g,) = torch.autograd.grad(-((w - 0.5) ** 2).mean(), [alpha])
    assert (g[:, 1:] < 0).all() and (g[:, 0] > 0).all()  # descent moves them to 0 or 1
