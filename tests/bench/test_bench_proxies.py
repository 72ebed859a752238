"""Proxy cost beside a plain forward+backward of the same network and minibatch
(baseline measured in the same run; goal: each single-pass proxy <= 1.3x the baseline, the
full set of 12 through the engine <= 8x). Each round gets a freshly built network (setup,
not timed). Everything runs with the proxy sweep's torch threads (one per process)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from adapters.images import images_for
from harness.core.registry import default_registry
from harness.core.seeds import cell_seed_sequence, generator, torch_generator
from harness.proxies.scoring import ProxyContext, build_network

pytestmark = pytest.mark.realdata
ARCH = 11  # |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|


@pytest.fixture(scope="module", autouse=True)
def sweep_threads():
    """The proxy sweep's thread setting for this module, restored afterwards."""
    from harness.proxies.sweep import PROXY_THREADS

    before = torch.get_num_threads()
    torch.set_num_threads(PROXY_THREADS)
    yield
    torch.set_num_threads(before)


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


ALL12 = ("params", "flops", "l2_norm", "grad_norm", "snip", "fisher", "grasp", "jacov",
         "nwot", "synflow", "zen", "ntk")


def _full_set_setup(nb201):
    """Fresh scorers (no cache) of the 12 proxies, on the baseline's network and batch."""
    from harness.proxies.scoring import ArchScorer

    reg = default_registry()
    scorers = [ArchScorer(reg.get(n), n, nb201, "cifar10", experiment_seed=1, seed=0,
                          batch_size=64, device="cpu") for n in ALL12]
    return (scorers, ARCH), {}


def test_full_set_one_proxy_at_a_time(benchmark, nb201):
    """All 12 proxies on one arch, each building its own network and running its own passes
    (before the engine)."""
    def run(scorers, arch):
        return [s.score(arch)[0] for s in scorers]

    scores = benchmark.pedantic(run, setup=lambda: _full_set_setup(nb201), rounds=3,
                                warmup_rounds=0)
    assert np.isfinite(scores).all()


def test_full_set_engine(benchmark, nb201):
    """All 12 proxies on one arch through the engine: one network, shared passes."""
    from harness.proxies.engine import score_arch

    def run(scorers, arch):
        return score_arch(scorers, arch)

    got = benchmark.pedantic(run, setup=lambda: _full_set_setup(nb201), rounds=3,
                             warmup_rounds=0)
    assert len(got) == 12 and np.isfinite([v for v, _ in got.values()]).all()
