"""Supernet training steps beside one plain forward+backward of the equivalent stand-alone
NB201 network (same C, N, batch 64; the all-nor_conv_3x3 cell, the heaviest single path),
measured in the same run, at the default profile's reduced size and at the paper size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from adapters.images import CIFAR_MEAN, CIFAR_STD
from adapters.nb201_model import NB201Network
from adapters.nb201_search_data import SearchPools
from harness.core.registry import default_registry
from harness.core.seeds import generator, torch_generator
from harness.oneshot.cells import OneShotCell, OneShotConfig
from harness.oneshot.context import OneShotContext
from harness.oneshot.runner import build_supernet

SIZES = {"reduced": (8, 1), "paper": (16, 5)}
METHODS = ("darts-v1", "darts-v2", "gdas", "drnas", "rsps", "spos", "fairnas")


def _batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(64, 3, 32, 32, generator=g), torch.randint(0, 10, (64,), generator=g)


def _ctx(name: str, C: int, N: int):
    cls = default_registry().get(name)
    cfg = OneShotConfig("reduced", C=C, N=N, batch_size=64, epochs=1)
    x = np.zeros((64, 32, 32, 3), np.uint8)
    pools = SearchPools("cifar10", x, np.zeros(64, np.int64), x, np.zeros(64, np.int64), 10,
                        CIFAR_MEAN, CIFAR_STD, 4, "")
    cell = OneShotCell(name, "nb201", "cifar10", 0, cfg, 1, "cpu", 1)
    method = cls()
    ctx = OneShotContext(build_supernet(cls, cell, 10), pools, cfg, cls, "cpu",
                         method.hyperparameters, 1, 100)
    ctx.rng, ctx.torch_gen = generator(cell.stream("b")), torch_generator(cell.stream("t"))
    method._setup(ctx)
    method._epoch_begin(ctx)
    ctx._set_lr()
    return method, ctx


@pytest.mark.parametrize("size", SIZES)
def test_baseline_standalone_forward_backward(benchmark, size):
    C, N = SIZES[size]
    net = NB201Network((3,) * 6, 10, C, N)
    x, y = _batch()

    def run():
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()

    benchmark.pedantic(run, rounds=3 if size == "paper" else 10, warmup_rounds=1)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", METHODS)
def test_supernet_step(benchmark, size, name):
    method, ctx = _ctx(name, *SIZES[size])
    train, valid = _batch(0), _batch(1)
    stats = benchmark.pedantic(method._step, args=(ctx, train, valid),
                               rounds=3 if size == "paper" else 10, warmup_rounds=1)
    assert np.isfinite(stats["loss"])
