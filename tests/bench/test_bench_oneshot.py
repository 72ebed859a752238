"""Supernet training steps beside one plain forward+backward of the equivalent stand-alone
NB201 network (same C, N, batch 64; the all-nor_conv_3x3 cell, the heaviest single path),
measured in the same run, at the default profile's reduced size and at the paper size."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F

from adapters.nb201_model import NB201Network
from tests.bench.oneshot_vs_reference import SIZES, batch, our_context

METHODS = ("darts-v1", "darts-v2", "gdas", "drnas", "rsps", "spos", "fairnas")


@pytest.mark.parametrize("size", SIZES)
def test_baseline_standalone_forward_backward(benchmark, size):
    C, N = SIZES[size]
    net = NB201Network((3,) * 6, 10, C, N)
    x, y = batch(0)

    def run():
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()

    benchmark.pedantic(run, rounds=3 if size == "paper" else 10, warmup_rounds=1)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", METHODS)
def test_supernet_step(benchmark, size, name):
    method, ctx = our_context(name, *SIZES[size])
    train, valid = batch(0), batch(1)
    stats = benchmark.pedantic(method._step, args=(ctx, train, valid),
                               rounds=3 if size == "paper" else 10, warmup_rounds=1)
    assert np.isfinite(float(stats["loss"]))
