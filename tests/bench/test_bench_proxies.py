"""Proxy cost beside a plain forward+backward of the same network and minibatch
(baseline measured in the same run; goal: each single-pass proxy <= 1.3x the baseline).
Each round gets a freshly built network (setup, not timed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from adapters.images import images_for
from harness.proxy import ProxyContext, build_network
from harness.registry import default_registry
from harness.seeds import cell_seed_sequence, generator, torch_generator

pytestmark = pytest.mark.realdata
ARCH = 11  # |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|


@pytest.fixture(scope="module")
def batch(nb201):
    x, y = images_for("cifar10").batch(generator(cell_seed_sequence(1, "mb", "nb201",
                                                                    "cifar10", 0)), 64)
    return torch.from_numpy(x), torch.from_numpy(y)


def _setup(nb201, batch):
    seq = cell_seed_sequence(1, f"init:{ARCH}", "nb201", "cifar10", 0)
    model = build_network(nb201, ARCH, "cifar10", seq, "cpu")
    ctx = ProxyContext(model, batch[0], batch[1], 10, nb201.encode([ARCH])[0], 0.0, 0.0,
                       torch_generator(seq), "cpu")
    return (ctx,), {}


def test_baseline_forward_backward(benchmark, nb201, batch):
    def run(ctx):
        ctx.model.zero_grad(set_to_none=True)
        F.cross_entropy(ctx.model(ctx.inputs), ctx.targets).backward()

    benchmark.pedantic(run, setup=lambda: _setup(nb201, batch), rounds=8, warmup_rounds=1)


@pytest.mark.parametrize("name", ["grad_norm", "snip", "fisher", "synflow", "jacov", "nwot",
                                  "l2_norm", "zen", "grasp", "ntk"])
def test_proxy_cost(benchmark, nb201, batch, name):
    proxy = default_registry().get(name)()
    score = benchmark.pedantic(proxy._score, setup=lambda: _setup(nb201, batch), rounds=8,
                               warmup_rounds=1)
    assert np.isfinite(score)
