"""Our NB201 supernet and one-shot steps against the NB201 authors' own code (``xautodl``:
``models/cell_searchs`` and the step of ``exps/NAS-Bench-201-algos/DARTS-V1.py`` /
``GDAS.py``), at the paper size: C=16, N=5, 4 nodes, the 5 NB201 ops, BN with
``affine=False`` and ``track_running_stats=False`` as the reference searches set them.

Forward and gradients are compared in float64 with weights copied across (max abs diff
<= 1e-10: the two compute the same sums, in nearly the same order). One deliberate
deviation is pinned here: the reference clips ``network.parameters()``, whose norm
includes alpha's gradient left over from the previous arch step plus the weight loss's
gradient w.r.t. alpha; we clip the weights only (the weights' optimiser never touches
alpha, so alpha's gradient in that norm is an accident of the script, not DARTS).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from adapters.nb201_space import NUM_EDGES, NUM_OPS, arch_string
from adapters.nb201_supernet import NONE, SinglePath, Supernet, Weighted, argmax_cell
from harness.oneshot.context import OneShotContext
from tests.reference_nb201 import (
    copy_into_reference,
    our_name,
    reference_model,
    reference_optimizers,
    structure,
)

C, N, CLASSES, BATCH = 16, 5, 10, 4
TOL = 1e-10  # float64


@pytest.fixture(autouse=True)
def _float64_one_thread():
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(dtype)
    torch.set_num_threads(threads)


def _pair(kind: str, seed: int = 0):
    """(ours, reference) with identical weights, both in train mode."""
    torch.manual_seed(seed)  # the reference initialises from the global generator
    ref = reference_model(kind, C, N, CLASSES)
    ours = Supernet(CLASSES, C, N, affine=False, track_running_stats=False)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():  # not the reference's init: the weights are what is compared
        for p in ours.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    copy_into_reference(ours, ref)
    return ours.train(), ref.train()


def _batch(seed: int = 7, n: int = BATCH):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, CLASSES, (n,), generator=g)


def _maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.detach() - b.detach()).abs().max())


def _grads_equal(ours: Supernet, ref, tol: float = TOL) -> None:
    mine = dict(ours.named_parameters())
    for name, p in ref.named_parameters():
        if name == "arch_parameters":
            continue
        q = mine[our_name(name)]
        if p.grad is None or q.grad is None:  # an op neither path computed
            assert (p.grad is None or not p.grad.any()) and (q.grad is None or not q.grad.any())
            continue
        assert _maxdiff(p.grad, q.grad) <= tol, name


def _same_logits_and_gradients(ours, ref, mine, theirs, y, alpha) -> None:
    """Equal logits; after backprop of each side's loss, equal (non-zero) alpha gradients
    and equal gradients of every weight."""
    assert _maxdiff(mine, theirs) <= TOL
    F.cross_entropy(mine, y).backward()
    F.cross_entropy(theirs, y).backward()
    assert alpha.grad.abs().max() > 0
    assert _maxdiff(alpha.grad, ref.arch_parameters.grad) <= TOL
    _grads_equal(ours, ref)


def test_weights_count_and_names_equal_the_reference():
    ours, ref = _pair("DARTS")
    n_ours = sum(p.numel() for p in ours.parameters())
    n_ref = sum(p.numel() for p in ref.get_weights())
    assert n_ours == n_ref == sum(p.numel() for p in ref.parameters()) - NUM_EDGES * NUM_OPS
    # every reference weight has exactly one partner of ours (names mapped, shapes equal)
    assert sorted(our_name(k) for k, _ in ref.named_parameters() if k != "arch_parameters") \
        == sorted(k for k, _ in ours.named_parameters())


def test_darts_forward_and_gradients_equal_the_reference():
    ours, ref = _pair("DARTS")
    alpha = 1e-3 * torch.randn(NUM_EDGES, NUM_OPS, generator=torch.Generator().manual_seed(3))
    alpha[2, NONE] += 0.5  # 'none' strongest on one edge: its (zero) output still weighted
    with torch.no_grad():
        ref.arch_parameters.copy_(alpha)
    a = alpha.clone().requires_grad_(True)
    x, y = _batch()
    mine = ours(x, Weighted(a.softmax(-1)))
    _, theirs = ref(x)
    _same_logits_and_gradients(ours, ref, mine, theirs, y, a)


def test_gdas_forward_and_gradients_equal_the_reference():
    from methods.oneshot.gdas import Gdas

    ours, ref = _pair("GDAS")
    alpha = 1e-3 * torch.randn(NUM_EDGES, NUM_OPS, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        ref.arch_parameters.copy_(alpha)
    a = alpha.clone().requires_grad_(True)
    ref.set_tau(4.2)
    ctx = SimpleNamespace(state={"alpha": a, "tau": 4.2},
                          torch_gen=torch.Generator().manual_seed(11))
    path = Gdas().sample(ctx)  # the same Gumbel draw as the reference's global generator
    x, y = _batch()
    with torch.random.fork_rng():
        torch.manual_seed(11)
        _, theirs = ref(x)
    mine = ours(x, path)
    _same_logits_and_gradients(ours, ref, mine, theirs, y, a)


@pytest.mark.parametrize("kind", ["RANDOM", "SETN", "ENAS"])
def test_single_path_forwards_equal_the_reference(kind):
    """RSPS (RANDOM), SETN's and ENAS's one-cell forward: ``forward_dynamic`` of a cell."""
    ours, ref = _pair(kind)
    x, y = _batch()
    for ops in ((3, 1, 0, 2, 4, 3), (0, 0, 0, 0, 0, 1), (1, 1, 1, 1, 1, 1), (0, 3, 0, 0, 0, 0)):
        cell = structure(ops)
        if kind == "RANDOM":
            ref.arch_cache = cell
        elif kind == "SETN":
            ref.set_cal_mode("dynamic", cell)
        else:
            ref.update_arch(cell)
        ours.zero_grad(set_to_none=True)
        ref.zero_grad(set_to_none=True)
        mine = ours(x, SinglePath(ops))
        _, theirs = ref(x)
        assert _maxdiff(mine, theirs) <= TOL, ops
        F.cross_entropy(mine, y).backward()
        F.cross_entropy(theirs, y).backward()
        _grads_equal(ours, ref)


def test_derivation_equals_the_reference_genotype():
    """Argmax of every edge, ``none`` included (the NB201 reference keeps a 'none' edge)."""
    ref = reference_model("DARTS", 4, 1, CLASSES)
    g = torch.Generator().manual_seed(5)
    for trial in range(20):
        alpha = torch.randn(NUM_EDGES, NUM_OPS, generator=g)
        if trial % 2:
            alpha[trial % NUM_EDGES, NONE] = 10.0
        with torch.no_grad():
            ref.arch_parameters.copy_(alpha)
        ops = argmax_cell(alpha.softmax(-1))
        assert arch_string(ops) == ref.genotype().tostr()
        if trial % 2:
            assert ops[trial % NUM_EDGES] == NONE


# ---- one DARTS-V1 search step -------------------------------------------------------------
def _context(net: Supernet, method) -> OneShotContext:
    ctx = OneShotContext(net, SimpleNamespace(num_classes=CLASSES), None, type(method), "cpu",
                         method.hyperparameters, epochs=50, steps_per_epoch=390)
    ctx.torch_gen = torch.Generator().manual_seed(21)
    method._setup(ctx)
    ctx.epoch, ctx.step = 3, 17
    ctx._set_lr()
    return ctx


def _reference_darts_step(ref, ctx, train, valid, clip_alpha: bool) -> None:
    """The loop body of DARTS-V1.py's ``search_func`` (weight step, then alpha step), with the
    reference's optimisers set to our hyperparameters. ``clip_alpha=False``: the clip sees
    the weights only (our deliberate deviation)."""
    opt = ctx.opt
    w_opt = torch.optim.SGD(ref.get_weights(), lr=ctx.lr, momentum=opt["momentum"],
                            weight_decay=opt["weight_decay"], nesterov=opt["nesterov"])
    hp = ctx.hp
    a_opt = torch.optim.Adam(ref.get_alphas(), lr=hp["arch_lr"], betas=tuple(hp["arch_betas"]),
                             weight_decay=hp["arch_weight_decay"])
    w_opt.zero_grad()
    _, logits = ref(train[0])
    F.cross_entropy(logits, train[1]).backward()
    torch.nn.utils.clip_grad_norm_(list(ref.parameters()) if clip_alpha else ref.get_weights(),
                                   opt["grad_clip"])
    w_opt.step()
    a_opt.zero_grad()
    _, logits = ref(valid[0])
    F.cross_entropy(logits, valid[1]).backward()
    a_opt.step()


@pytest.mark.parametrize("clip", [5.0, 0.05])
def test_one_darts_v1_step_moves_alpha_as_the_reference(clip):
    """Weight step then alpha step on the same batches: alpha and every weight end equal to
    the reference's. With a clip that does not bind (5: the reference's value) the two
    clipping rules coincide; with one that binds (0.05) our step equals the reference
    clipping the weights only, and differs from the literal reference by what alpha's
    gradient adds to the clipped norm (pinned below)."""
    from methods.oneshot.darts_v1 import DartsV1

    ours, ref = _pair("DARTS")
    method = DartsV1()
    ctx = _context(ours, method)
    ctx.opt["grad_clip"] = clip
    alpha0 = ctx.state["alpha"].detach().clone()
    with torch.no_grad():
        ref.arch_parameters.copy_(alpha0)
    train, valid = _batch(8, 8), _batch(9, 8)
    method._step(ctx, train, valid)
    moved = ctx.state["alpha"].detach()
    assert _maxdiff(moved, alpha0) > 1e-4  # alpha moved by about the Adam lr (3e-4)

    literal = reference_model("DARTS", C, N, CLASSES).train()
    literal.load_state_dict(ref.state_dict())
    _reference_darts_step(ref, ctx, train, valid, clip_alpha=False)
    assert _maxdiff(moved, ref.arch_parameters.detach()) <= TOL
    mine = dict(ours.named_parameters())
    for name, p in ref.named_parameters():
        if name != "arch_parameters":
            assert _maxdiff(mine[our_name(name)].detach(), p.detach()) <= TOL, name

    _reference_darts_step(literal, ctx, train, valid, clip_alpha=True)
    gap = _maxdiff(moved, literal.arch_parameters.detach())
    if clip == 5.0:
        assert gap <= TOL  # the reference's clip does not bind on this batch
    else:
        assert 0 < gap < 1e-6  # binding: alpha's gradient shrinks the clip factor a little


def test_weight_schedule_is_the_reference_cosine():
    """The reference's CosineAnnealingLR (``xautodl.procedures.optimizers``) updated as the
    search scripts do: ``update(epoch, 0.0)`` per epoch, ``update(None, step / steps)`` per
    step; its rate depends on the epoch only (the step matters only in warm-up, 0 here)."""
    from methods.oneshot.darts_v1 import DartsV1

    CosineAnnealingLR = reference_optimizers().CosineAnnealingLR

    ours, _ = _pair("DARTS")
    ctx = _context(ours, DartsV1())
    ref_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=ctx.opt["lr"])
    sched = CosineAnnealingLR(ref_opt, 0, ctx.epochs, ctx.epochs, ctx.opt["lr_min"])
    for epoch in (0, 1, 10, 25, 49):
        sched.update(epoch, 0.0)
        for step in (0, 1, 200, 389):
            sched.update(None, step / ctx.steps_per_epoch)
            ctx.epoch, ctx.step = epoch, step
            ctx._set_lr()
            assert ctx.lr == pytest.approx(ref_opt.param_groups[0]["lr"], abs=1e-12)
