"""What a one-shot cell does differently on a GPU, checked on the CPU: batches made on the
device (the same images as the host path), channels_last supernets (the same numbers),
bfloat16 autocast (within the tolerance stated here), and steps that never read a tensor
back to the host (so the GPU never waits for Python)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from adapters.nb201_supernet import Hard, SinglePath, Supernet, Weighted
from harness.oneshot.device_data import DeviceBatches
from harness.oneshot.runner import step_batches

REPO = Path(__file__).resolve().parents[1]
#: this repository's code (not a virtual environment inside the checkout, e.g. tox's)
SOURCES = tuple(REPO / d for d in ("harness", "methods", "adapters"))


def _pools():
    from adapters.images import CIFAR_MEAN, CIFAR_STD
    from adapters.nb201_search_data import SearchPools

    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (96, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 96)
    return SearchPools("cifar10", x[:64], y[:64], x[64:], y[64:], 10, CIFAR_MEAN, CIFAR_STD,
                       4, "random test images")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_device_batches_are_the_host_paths_images(dtype):
    """Same stream, same draws, same pixels (bit for bit) and labels; channels_last only
    changes the memory layout."""
    pools = _pools()
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        for channels_last in (False, True):
            dev = DeviceBatches(pools, "cpu", channels_last=channels_last)
            host_rng, dev_rng = np.random.default_rng(11), np.random.default_rng(11)
            perm = np.random.default_rng(5).permutation(64)
            for step in range(4):
                want = step_batches(pools, perm, step, 16, host_rng, "cpu")
                got = dev.step(perm, step, 16, dev_rng)
                for (wx, wy), (gx, gy) in zip(want, got, strict=True):
                    assert gx.dtype == dtype and torch.equal(gx, wx) and torch.equal(gy, wy)
                    assert gx.is_contiguous(memory_format=torch.channels_last) == \
                        channels_last
            assert host_rng.random() == dev_rng.random()  # the streams stayed in step
    finally:
        torch.set_default_dtype(before)


@pytest.mark.parametrize("path", ["weighted", "hard", "single"])
def test_a_channels_last_supernet_computes_the_same_numbers(path):
    """float64: logits and every gradient of a channels_last supernet (channels_last
    input) equal the contiguous one's to 1e-12, on the fused weighted path, GDAS's hard
    path and a single path."""
    torch.manual_seed(0)
    net = Supernet(10, 8, 1).double()
    x, y = torch.randn(8, 3, 32, 32, dtype=torch.float64), torch.randint(0, 10, (8,))
    alpha = (torch.randn(6, 5, dtype=torch.float64) * 0.1).requires_grad_()

    def run(model, inp):
        w = alpha.softmax(-1)
        p = {"weighted": Weighted(w),
             "hard": Hard(w, [1, 2, 3, 4, 2, 1]),
             "single": SinglePath((1, 2, 3, 4, 2, 1))}[path]
        model.zero_grad()
        alpha.grad = None
        logits = model(inp, p)
        F.cross_entropy(logits, y).backward()
        grads = [q.grad.clone() if q.grad is not None else None for q in model.parameters()]
        return logits.detach(), grads, None if alpha.grad is None else alpha.grad.clone()

    a = run(net, x)
    cl = net.to(memory_format=torch.channels_last)
    b = run(cl, x.contiguous(memory_format=torch.channels_last))
    assert float((a[0] - b[0]).abs().max()) <= 1e-12
    for ga, gb in zip(a[1], b[1], strict=True):
        assert (ga is None) == (gb is None)
        if ga is not None:
            assert float((ga - gb).abs().max()) <= 1e-12
    if a[2] is not None:
        assert float((a[2] - b[2]).abs().max()) <= 1e-12


def test_bfloat16_autocast_stays_within_the_stated_tolerance():
    """The tolerance of ``precision: bfloat16-autocast`` (measured here at the paper size,
    C=16 N=5, batch 64, float32 weights): logits within 5e-2 of the largest float32 logit
    (3.3e-2 measured), the loss within 2e-3, the same predicted classes on >= 90 % of the
    batch, and the alpha gradient pointing the same way (cosine >= 0.75: bfloat16
    keeps 8 bits of mantissa, and at initialisation the alpha gradient is a small
    difference of large terms). Opt-in for GPUs, never the default of a profile."""
    torch.manual_seed(0)
    net = Supernet(10, 16, 5)
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    alpha = (1e-3 * torch.randn(6, 5)).requires_grad_()

    def run(enabled: bool):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled):
            logits = net(x, Weighted(alpha.softmax(-1))).float()
            loss = F.cross_entropy(logits, y)
        (grad,) = torch.autograd.grad(loss, [alpha])
        return logits.detach(), float(loss.detach()), grad

    (la, a, ga), (lb, b, gb) = run(False), run(True)
    assert float((la - lb).abs().max() / la.abs().max()) <= 5e-2
    assert abs(a - b) <= 2e-3
    assert float((la.argmax(1) == lb.argmax(1)).float().mean()) >= 0.90
    assert float(F.cosine_similarity(ga.flatten(), gb.flatten(), 0)) >= 0.75


def test_an_autocast_cell_runs_and_is_labelled(nb201, tmp_path):
    from harness.core.registry import default_registry
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.runner import run_oneshot_cell

    cfg = OneShotConfig("smoke", C=4, N=1, batch_size=32, train_images=64, valid_images=64,
                        epochs=1, eval_batch=64, eval_batches=1, bn_batches=1,
                        precision="bfloat16-autocast")
    cell = OneShotCell("darts-v1", "nb201", "cifar10", 0, cfg, 1, "cpu", 1)
    assert cell.budget_key.endswith(",precision=bfloat16-autocast")
    row = run_oneshot_cell(default_registry().get("darts-v1"), cell, nb201, tmp_path / "c.pt")
    assert "bfloat16-autocast" in row["note"] and 10 <= row["test_value"] <= 94.37
    assert torch.get_default_dtype() == torch.float32 and not torch.is_autocast_enabled("cpu")


class _HostReads:
    """Records every read of a tensor's value into Python (``item``, ``float``, ``int``,
    ``bool``, ``tolist``) made by this repository's code: on a GPU each one waits for the
    device."""

    NAMES = ("item", "__float__", "__int__", "__bool__", "tolist")

    def __init__(self, monkeypatch):
        self.seen: list[str] = []
        for name in self.NAMES:
            monkeypatch.setattr(torch.Tensor, name, self._wrap(getattr(torch.Tensor, name),
                                                               name))

    def _wrap(self, fn, name):
        def read(t, *a, **k):
            caller = sys._getframe(1).f_code
            where = Path(caller.co_filename).resolve()
            if any(where.is_relative_to(d) for d in SOURCES):
                self.seen.append(f"{name} in {caller.co_name} "
                                 f"({Path(caller.co_filename).name})")
            return fn(t, *a, **k)
        return read


#: methods whose step reads nothing back; GDAS picks its ops on the host from a sampled
#: index, single-path methods draw paths with numpy, DARTS-V2 scales its finite difference
#: by a Python float: one read per step each, by design
SYNC_FREE = ["darts-v1", "drnas", "gaea", "fairdarts", "beta-darts", "pc-darts"]


@pytest.mark.parametrize("name", SYNC_FREE)
def test_weighted_steps_never_read_a_tensor_back(name, monkeypatch):
    from tests.bench.oneshot_vs_reference import batch, our_context

    method, ctx = our_context(name, 4, 1, batch_size=16)
    train, valid = batch(0, 16), batch(1, 16)
    method._step(ctx, train, valid)  # warm-up: first-call set-up may read
    reads = _HostReads(monkeypatch)
    stats = method._step(ctx, train, valid)
    assert reads.seen == []
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in stats.values())


def test_step_statistics_stay_on_the_device_until_the_epoch_ends():
    """On a GPU the epoch's sums are tensors (float64, read once at the epoch's end); on
    the CPU they are read at once, as Python floats (the same numbers either way)."""
    from collections import defaultdict

    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.runner import add_stats

    cfg = OneShotConfig("smoke", C=4, N=1)
    stats = [{"loss": torch.tensor(2.25), "acc": torch.tensor(12.5, dtype=torch.float64)},
             {"loss": torch.tensor(1.5), "acc": 50.0}]
    sums = {}
    for device in ("cuda", "cpu"):
        cell = OneShotCell("darts-v1", "nb201", "cifar10", 0, cfg, 1, device, 1)
        sums[device] = defaultdict(float)
        for s in stats:
            add_stats(sums[device], s, cell)
    assert isinstance(sums["cuda"]["loss"], torch.Tensor)
    assert sums["cuda"]["loss"].dtype == torch.float64
    assert all(isinstance(v, float) for v in sums["cpu"].values())
    assert {k: float(v) for k, v in sums["cuda"].items()} == dict(sums["cpu"]) == \
        {"loss": 3.75, "acc": 62.5}
