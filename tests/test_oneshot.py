"""One-shot NAS: the supernet against the benchmark's network, the methods' conformance, the
reference facts of the NB201 weight-sharing table, data pools and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adapters.nb201_model import NB201Network
from adapters.nb201_space import OPS, parse_arch
from adapters.nb201_supernet import Hard, SinglePath, Supernet, Weighted, argmax_cell
from harness.core.errors import MethodError
from harness.core.registry import default_registry
from harness.testing import check_oneshot

ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|" \
           "skip_connect~2|"
METHODS = ("darts-v1", "darts-v2", "gdas", "drnas", "rsps", "spos", "fairnas")
SMALL = {"population": 6, "generations": 2, "parents": 3, "mutations": 3, "crossovers": 3,
         "select_num": 5}


def _small(name: str) -> dict:
    cls = default_registry().get(name)
    return {k: v for k, v in SMALL.items() if k in getattr(cls, "defaults", {})}


def test_all_skip_cell_is_the_nb201_darts_row(nb201):
    """NB201 paper: DARTS-V1/V2 collapse to the all-skip cell (NATS-Bench README), whose
    table values are its weight-sharing row: CIFAR-10 test 54.30, cifar10-valid valid 39.77,
    CIFAR-100 15.03 / 15.61, ImageNet16-120 16.43 / 16.32 (valid / test)."""
    idx = nb201.index([ALL_SKIP])
    assert round(float(nb201.query(idx, "test_acc", "cifar10")[0]), 2) == 54.30
    assert round(float(nb201.query(idx, "valid_acc", "cifar10-valid")[0]), 2) == 39.77
    for ds, (v, t) in {"cifar100": (15.03, 15.61), "ImageNet16-120": (16.43, 16.32)}.items():
        assert round(float(nb201.query(idx, "valid_acc", ds)[0]), 2) == v
        assert round(float(nb201.query(idx, "test_acc", ds)[0]), 2) == t
    proto = nb201.protocol("cifar10")  # what a one-shot row on cifar10 reports
    assert (proto["search_dataset"], proto["report_dataset"]) == ("cifar10-valid", "cifar10")


def _copy_into_standalone(sup: Supernet, ops, C: int, N: int) -> NB201Network:
    net = NB201Network(ops, 10, C, N)
    src = sup.state_dict()
    dst = {}
    for k in net.state_dict():
        parts = k.split(".")
        if parts[0] == "cells" and parts[2] == "edges":  # cells.i.edges.e.<op k>.rest
            e = int(parts[3])
            parts.insert(4, str(ops[e]))
        dst[k] = src[".".join(parts)]
    net.load_state_dict(dst)
    return net


@pytest.mark.parametrize("arch", [
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    ALL_SKIP])
def test_single_path_is_the_benchmarks_network(arch):
    """The supernet along one cell computes exactly the NB201 network of that cell (same
    weights), and one-hot weighted / hard paths compute the same function."""
    g = torch.Generator().manual_seed(0)
    ops = parse_arch(arch)
    sup = Supernet(10, C=4, N=2, affine=True, track_running_stats=True)
    with torch.no_grad():
        for p in sup.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    x = torch.randn(8, 3, 32, 32, generator=g)
    net = _copy_into_standalone(sup, ops, 4, 2)
    sup.eval()
    net.eval()
    want = net(x)
    assert torch.allclose(sup(x, SinglePath(ops)), want, atol=1e-5)
    onehot = torch.nn.functional.one_hot(torch.tensor(ops), len(OPS)).float()
    assert torch.allclose(sup(x, Weighted(onehot)), want, atol=1e-5)
    assert torch.allclose(sup(x, Hard(onehot, list(ops))), want, atol=1e-5)
    assert argmax_cell(onehot) == tuple(ops)


def test_dirichlet_sample_mean_and_gradient():
    """DrNAS's reparameterised sample: E[w] = c / sum(c), and the pathwise gradient of E[w_0]
    matches the analytic derivative d(c_0 / sum c)/dc."""
    from methods.oneshot.drnas import dirichlet_sample

    conc = torch.tensor([[2.0, 1.0, 0.5, 3.0, 1.5]], requires_grad=True)
    rng = np.random.default_rng(0)
    n = 20000
    w = dirichlet_sample(conc.expand(n, 5), rng)
    w[:, 0].mean().backward()
    c = conc.detach()[0]
    s = c.sum()
    assert torch.allclose(w.detach().mean(0), c / s, atol=0.01)
    analytic = -c[0] / s**2 * torch.ones(5)
    analytic[0] += 1 / s
    assert torch.allclose(conc.grad[0], analytic, atol=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("name", METHODS)
def test_builtin_methods_pass_the_conformance_suite(name, nb201):
    torch.set_num_threads(1)
    passed = check_oneshot(default_registry().get(name), nb201, hyperparameters=_small(name))
    assert passed == ["respects_budget", "deterministic_for_seed", "never_reads_the_table",
                      "resumes_after_interruption", "derives_a_valid_cell"]


def _darts():
    return default_registry().get("darts-v1")


class _PeeksAtTable(_darts()):
    def _derive(self, ctx):
        import adapters

        bench = adapters.load_benchmark("nb201")
        best = int(np.nanargmax(bench.query(np.arange(bench.num_archs), "test_acc",
                                            "cifar10")))
        return tuple(int(o) for o in bench.encode([best])[0])


class _GlobalRng(_darts()):
    def _setup(self, ctx):
        super()._setup(ctx)
        with torch.no_grad():
            ctx.state["alpha"].add_(torch.randn(6, 5))  # the global torch RNG


class _KeepsStateOutsideCtx(_darts()):
    def _setup(self, ctx):
        super()._setup(ctx)
        self.alpha = ctx.state.pop("alpha")
        ctx.state["arch_optimizer"] = torch.optim.Adam([self.alpha], lr=0.05)

    def _step(self, ctx, train, valid):
        ctx.state["alpha"] = self.alpha
        out = super()._step(ctx, train, valid)
        del ctx.state["alpha"]
        return out

    def _arch_weights(self, ctx):
        return self.alpha.detach().softmax(-1).numpy()


@pytest.mark.parametrize("cls, needle", [
    (_PeeksAtTable, "_derive on nb201/cifar10 seed 0 read cifar10/test_acc while searching"),
    (_GlobalRng, "not deterministic"),
    (_KeepsStateOutsideCtx, "resumed from its epoch-1 checkpoint differs"),
])
def test_conformance_suite_catches_misbehaving_methods(cls, needle, nb201):
    torch.set_num_threads(1)
    with pytest.raises(MethodError, match=needle):
        check_oneshot(cls, nb201)


def test_search_pools_follow_the_nb201_protocol(data_root):
    from adapters.nb201_search_data import search_pools, unavailable

    c10 = search_pools("cifar10", np.random.SeedSequence(1), data_root)
    assert len(c10.y_train) == len(c10.y_valid) == 25_000  # the 25k/25k split of train
    assert "seed" in c10.describe and "JPEG" in c10.describe
    counts = np.bincount(c10.y_train, minlength=10)
    assert counts.min() > 2300 and counts.max() < 2700  # a random half of 5,000 per class
    again = search_pools("cifar10", np.random.SeedSequence(1), data_root)
    assert np.array_equal(again.y_valid[:100], c10.y_valid[:100])
    in16 = search_pools("ImageNet16-120", np.random.SeedSequence(1), data_root)
    assert (len(in16.y_train), len(in16.y_valid), in16.num_classes) == (60_000, 6_000, 120)
    assert "STAND-IN" in in16.describe
    assert "no cifar100 images" in unavailable("cifar100", data_root)
    sub = c10.subset(640, 320)
    assert (len(sub.y_train), len(sub.y_valid)) == (640, 320)


def test_augmentation_is_a_padded_crop_and_flip():
    from adapters.images import CIFAR_MEAN, CIFAR_STD
    from adapters.nb201_search_data import SearchPools

    x = np.arange(32 * 32 * 3, dtype=np.uint8).reshape(1, 32, 32, 3)
    x = np.repeat(x, 64, axis=0)
    pools = SearchPools("cifar10", x, np.zeros(64), x, np.zeros(64), 10, CIFAR_MEAN,
                        CIFAR_STD, 4, "")
    out = pools.augment(x, np.random.default_rng(0))
    base = pools.normalise(x[:1])[0]
    pad_value = (0 - CIFAR_MEAN / 1) / CIFAR_STD  # a zero pixel after normalisation
    assert out.shape == (64, 3, 32, 32)
    found = 0
    for img in out:  # every output is base shifted by (dy, dx) in [-4, 4], maybe flipped
        for cand in (img, img[:, :, ::-1]):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    sh = np.full_like(base, 0) + pad_value[:, None, None].astype(np.float32)
                    ys, xs = slice(max(0, -dy), 32 - max(0, dy)), slice(max(0, -dx),
                                                                      32 - max(0, dx))
                    yd, xd = slice(max(0, dy), 32 - max(0, -dy)), slice(max(0, dx),
                                                                      32 - max(0, -dx))
                    sh[:, ys, xs] = base[:, yd, xd]
                    found += bool(np.allclose(cand, sh, atol=1e-5))
    assert found >= 64
    assert len({img.tobytes() for img in out}) > 20  # crops and flips differ per image


def _tiny_profile(tmp_path, epochs: int = 6, **conf) -> str:
    import json

    prof = {"experiment_seed": 7, "oneshot": {
        "seeds": 1, "benchmarks": {"nb201": ["cifar10"]},
        "configuration": {"label": "smoke", "C": 4, "N": 1, "batch_size": 32,
                          "train_images": 128, "valid_images": 128, "epochs": epochs,
                          "eval_batch": 64, "eval_batches": 1, "bn_batches": 1, **conf}}}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(prof))
    return str(path)


def _rows(store) -> list[dict]:
    from harness.core.store import open_store
    from harness.testing import _comparable

    return [_comparable(r) for r in open_store(store).rows()]


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_checkpoint(tmp_path, harness_home, data_root, nb201):
    """SIGKILL a one-shot run once an epoch is checkpointed; the re-run continues from the
    checkpoint and stores the same row as an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.helpers import REPO, run_cli

    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root),
           "OMP_NUM_THREADS": "1"}
    prof = _tiny_profile(tmp_path)
    whole, killed = tmp_path / "whole.sqlite", tmp_path / "killed.sqlite"
    run_cli("run", "darts-v1", "--profile", prof, "--store", str(whole), "--quiet", env=env,
            check=True)
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", "darts-v1", "--profile",
                             prof, "--store", str(killed), "--quiet"], cwd=str(REPO),
                            env=full_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    folder = killed.with_suffix(".checkpoints")
    deadline = time.time() + 300
    seen = 0
    while time.time() < deadline and proc.poll() is None:
        cks = list(folder.glob("*.pt")) if folder.exists() else []
        if cks:
            seen = torch.load(cks[0], weights_only=True)["epoch"]
            if seen >= 2:
                proc.send_signal(signal.SIGKILL)
                break
        time.sleep(0.05)
    proc.wait()
    assert 2 <= seen < 6, f"the run was not killed mid-search (checkpoint epoch {seen})"
    assert not _rows(killed)  # nothing stored yet: the cell was unfinished
    run_cli("run", "darts-v1", "--profile", prof, "--store", str(killed), "--quiet", env=env,
            check=True)
    assert _rows(killed) == _rows(whole)
    assert not list(folder.glob("*.pt"))  # the finished cell's checkpoint is removed


def test_bad_oneshot_profiles_are_one_line(tmp_path):
    import json

    from tests.helpers import assert_one_line_error, run_cli

    path = _tiny_profile(tmp_path, chanels=8)
    assert_one_line_error(run_cli("run", "--all", "--profile", path), "chanels",
                          "oneshot.configuration")
    prof = json.loads(open(path).read())
    prof["oneshot"]["configuration"] = {"label": "fast", "C": 4}
    open(path, "w").write(json.dumps(prof))
    assert_one_line_error(run_cli("run", "--all", "--profile", path), "label")
    prof["oneshot"]["configuration"] = {"label": "smoke", "C": 4, "precision": "float16"}
    open(path, "w").write(json.dumps(prof))
    assert_one_line_error(run_cli("run", "--all", "--profile", path), "precision",
                          "float32, float64")
    # a wall-clock cap would make what the profile reports depend on the machine's speed
    prof["oneshot"]["configuration"] = {"label": "smoke", "C": 4, "max_minutes": 5}
    open(path, "w").write(json.dumps(prof))
    assert_one_line_error(run_cli("run", "--all", "--profile", path), "max_minutes",
                          "wall-clock", "epochs")


def test_a_float64_cell_trains_in_float64_and_says_so(nb201, tmp_path):
    """The smoke profile's precision: every parameter and alpha of the cell in float64, the
    budget key names it, and the process's default dtype is float32 again afterwards."""
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.runner import prepare, run_oneshot_cell

    cfg = OneShotConfig("smoke", C=4, N=1, batch_size=32, train_images=64, valid_images=64,
                        epochs=1, eval_batch=64, eval_batches=1, bn_batches=1,
                        precision="float64")
    cell = OneShotCell("darts-v1", "nb201", "cifar10", 0, cfg, 1, "cpu", 1)
    assert cell.budget_key.endswith(",precision=float64")
    seen = []
    cls = default_registry().get("darts-v1")
    row = run_oneshot_cell(cls, cell, nb201, tmp_path / "c.pt",
                           progress=lambda *a: seen.append(torch.get_default_dtype()))
    assert set(seen) == {torch.float64} and torch.get_default_dtype() == torch.float32
    assert 10 <= row["test_value"] <= 94.37
    torch.set_default_dtype(torch.float64)
    try:
        _, ctx, _, _ = prepare(cls, cell)
    finally:
        torch.set_default_dtype(torch.float32)
    assert {p.dtype for p in ctx.supernet.parameters()} == {torch.float64}
    assert ctx.state["alpha"].dtype == torch.float64


def _bench_ctx(name: str, **opt):
    from tests.bench.oneshot_vs_reference import our_context

    method, ctx = our_context(name, 4, 1)
    ctx.opt.update(opt)
    for g in ctx.w_optimizer.param_groups:
        g["lr"] = opt.get("lr", g["lr"])
    return method, ctx


def test_darts_v2_hypergradient():
    """With a zero learning rate DARTS-V2's unrolled step is DARTS-V1's alpha gradient
    (w' = w, no implicit term). With lr > 0 it is the reference's definition,
    dL_val(w')/dalpha - lr * (dL_train(w+)/dalpha - dL_train(w-)/dalpha) / 2R with
    w+- = w +- R dL_val/dw', R = 0.01 / |dL_val/dw'|, recomputed here functionally."""
    from torch.func import functional_call

    from adapters.nb201_supernet import Weighted

    train, valid = _batch_pair()
    method, ctx = _bench_ctx("darts-v2", lr=0.0, weight_decay=0.0)
    alpha = ctx.state["alpha"]
    loss, _ = ctx.loss(Weighted(alpha.softmax(-1)), valid)
    want = torch.autograd.grad(loss, alpha)[0]
    seen = {}
    ctx.state["arch_optimizer"].step = lambda: seen.setdefault("lr0", alpha.grad.clone())
    method._step(ctx, train, valid)
    assert torch.allclose(seen["lr0"], want, rtol=1e-4, atol=1e-7)

    lr, wd = 0.05, 5e-4
    method, ctx = _bench_ctx("darts-v2", lr=lr, weight_decay=wd)
    alpha, net = ctx.state["alpha"], ctx.supernet
    params = {k: p.detach().clone() for k, p in net.named_parameters()}
    buffers = {k: v.clone() for k, v in net.named_buffers()}
    a0 = alpha.detach().clone().requires_grad_(True)

    def loss_at(p, batch):
        logits = functional_call(net, {**p, **buffers}, (batch[0], Weighted(a0.softmax(-1))))
        return torch.nn.functional.cross_entropy(logits, batch[1])

    w = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    g = torch.autograd.grad(loss_at(w, train), list(w.values()))
    unrolled = {k: (p - lr * (gi + wd * p)).requires_grad_(True)
                for (k, p), gi in zip(params.items(), g, strict=True)}
    dalpha, *dw = torch.autograd.grad(loss_at(unrolled, valid), [a0, *unrolled.values()])
    r = 1e-2 / torch.cat([v.reshape(-1) for v in dw]).norm()
    plus = {k: p + r * v for (k, p), v in zip(params.items(), dw, strict=True)}
    minus = {k: p - r * v for (k, p), v in zip(params.items(), dw, strict=True)}
    fd = (torch.autograd.grad(loss_at(plus, train), a0)[0]
          - torch.autograd.grad(loss_at(minus, train), a0)[0]) / (2 * r)
    ctx.state["arch_optimizer"].step = lambda: seen.setdefault("lr", alpha.grad.clone())
    method._step(ctx, train, valid)
    want = dalpha - lr * fd

    def rel(x):
        return float(x.norm() / want.norm())

    assert rel(seen["lr"] - want) < 5e-3  # float32 rounding of the in-place perturbations
    assert rel(seen["lr"] - dalpha) > 0.1  # and the implicit term is not negligible


def _batch_pair():
    from tests.bench.oneshot_vs_reference import batch as _batch

    return _batch(0), _batch(1)


@pytest.mark.slow
def test_rows_do_not_depend_on_jobs(tmp_path, harness_home, data_root, nb201):
    """Cells run side by side (--jobs 2) store the same rows as one after another: the
    harness fixes each CPU cell's torch threads (summation order)."""
    from tests.helpers import run_cli

    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root)}
    prof = _tiny_profile(tmp_path, epochs=2)
    stores = []
    for jobs in ("1", "2"):
        store = tmp_path / f"j{jobs}.sqlite"
        run_cli("run", "darts-v1", "gdas", "--profile", prof, "--store", str(store),
                "--jobs", jobs, "--quiet", env=env, check=True)
        stores.append(_rows(store))
    assert len(stores[0]) == 2 and stores[0] == stores[1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("name", METHODS)
def test_oneshot_methods_run_on_cuda(name, nb201, tmp_path):
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.runner import run_oneshot_cell

    cfg = OneShotConfig("smoke", C=4, N=1, batch_size=32, train_images=128,
                        valid_images=128, epochs=2, eval_batch=64, eval_batches=1,
                        bn_batches=1, hyperparameters={name: _small(name)})
    cell = OneShotCell(name, "nb201", "cifar10", 0, cfg, 2, "cuda", 1, ranking=10)
    row = run_oneshot_cell(default_registry().get(name), cell, nb201, tmp_path / "c.pt")
    assert row["device"] == "cuda" and row["result"]["gpu_hours"] > 0
    assert 10 <= row["test_value"] <= 94.37


def test_a_time_boxed_run_pauses_and_the_next_continues(tmp_path, harness_home, data_root,
                                                        nb201):
    from tests.helpers import run_cli

    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root)}
    prof = _tiny_profile(tmp_path, epochs=3)
    whole, boxed = tmp_path / "whole.sqlite", tmp_path / "boxed.sqlite"
    run_cli("run", "gdas", "--profile", prof, "--store", str(whole), "--quiet", env=env,
            check=True)
    out = run_cli("run", "gdas", "--profile", prof, "--store", str(boxed), "--quiet",
                  "--oneshot-minutes", "0.0001", env=env, check=True).stdout
    assert "1 cells left for the next run" in out and "gdas cifar10 seed 0: 1/3 epochs" in out
    assert not _rows(boxed)
    run_cli("run", "gdas", "--profile", prof, "--store", str(boxed), "--quiet", env=env,
            check=True)
    assert _rows(boxed) == _rows(whole)
