"""Proxy definitions checked by hand (zen, fisher), disconnected cells ranked last, and the
``score`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from harness.core.correlation import correlations
from harness.core.registry import default_registry
from harness.proxies.scoring import ProxyContext, score_archs
from tests.helpers import assert_one_line_error, run_cli

ZEN_CELL = "|none~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
NO_PATH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"
UNDEFINED = ("synflow", "jacov", "nwot", "zen", "ntk")


def _ctx(model, x, y=None, gen=None, num_classes=3):
    return ProxyContext(model=model, inputs=x, targets=y, num_classes=num_classes,
                        encoding=np.zeros(6), params=0.0, flops=0.0, generator=gen,
                        device="cpu")


def _env(home, root) -> dict:
    return {"NAS_HARNESS_HOME": str(home), "NAS_HARNESS_DATA": str(root)}


def test_zen_is_finite_on_a_cell_with_a_zero_variance_bn(nb201, harness_home, data_root):
    """The issue's cell: node 1 is all zeros, so a conv-BN op reads a constant input."""
    proc = run_cli("score", "nb201", ZEN_CELL, "--proxy", "zen", "--dataset", "cifar10",
                   "--json", env=_env(harness_home, data_root))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "ok" and math.isfinite(out["score"]) and out["seconds"] > 0
    assert out["arch"] == ZEN_CELL and out["proxy_version"] == "2"


def test_zen_equals_its_definition_on_a_small_network():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False),
                                          nn.BatchNorm2d(4))

        def forward(self, x):
            return self.features(x).mean((2, 3))

    net = Net()
    zen = default_registry().get("zen")()
    score = zen._score(_ctx(net, torch.zeros(8, 3, 5, 5), gen=torch.Generator().manual_seed(7)))
    # by hand, with the same draws: W, then x and e (the generator's order)
    g = torch.Generator().manual_seed(7)
    w = torch.randn((4, 3, 3, 3), generator=g)
    x, e = torch.randn((8, 3, 5, 5), generator=g), torch.randn((8, 3, 5, 5), generator=g)
    y1, y2 = F.conv2d(x, w, padding=1), F.conv2d(x + 0.01 * e, w, padding=1)

    def bn(y):
        return (y - y.mean((0, 2, 3), keepdim=True)) / torch.sqrt(
            y.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5)

    delta = (bn(y1) - bn(y2)).abs().sum((1, 2, 3)).mean()
    v1, v2 = y1.var((0, 2, 3), unbiased=True), y2.var((0, 2, 3), unbiased=True)
    running = 0.9 * (0.9 * 1 + 0.1 * v1) + 0.1 * v2  # momentum 0.1 from variance 1
    expected = math.log(delta) - math.log(0.01) + 0.5 * math.log(float(running.mean()))
    assert score == pytest.approx(expected, rel=1e-5)


def test_fisher_equals_a_hand_computed_value():
    torch.manual_seed(0)  # the test's own tiny network; the proxy draws nothing
    conv, lin = nn.Conv2d(1, 2, 1, bias=False), nn.Linear(2, 3)
    model = nn.Sequential(conv, nn.Flatten(), lin)
    x = torch.tensor([[[[0.5]]], [[[-1.0]]], [[[2.0]]], [[[1.5]]]])
    y = torch.tensor([0, 2, 1, 2])
    score = default_registry().get("fisher")()._score(_ctx(model, x, y))
    # by hand: a1 = x w (N, 2); z = a1 W^T + b; dL/dz = (softmax(z) - onehot) / N
    wc = conv.weight.detach().numpy().reshape(2)
    wl, bl = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    xs = x.numpy().reshape(4, 1)
    a1 = xs * wc
    z = a1 @ wl.T + bl
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    gz = (p - np.eye(3)[y.numpy()]) / 4
    g1 = gz @ wl
    expected = sum(float((0.5 * (a * g) ** 2).mean(0).sum()) for a, g in ((a1, g1), (z, gz)))
    assert score == pytest.approx(expected, rel=1e-6)


def test_disconnected_cells_are_exactly_the_chance_level_cells(nb201):
    """Independent fact: the 341 NB201 cells without an input-to-output path are the cells
    the table gives 10.0% (chance) on CIFAR-10; every other cell trains (>= 46%)."""
    archs = np.arange(nb201.num_archs)
    connected = nb201.output_depends_on_input(archs)
    acc = nb201.query(archs, "test_acc", "cifar10")
    assert (~connected).sum() == 341
    assert np.all(acc[~connected] == 10.0) and acc[connected].min() > 46
    assert not nb201.output_depends_on_input([ALL_NONE, NO_PATH]).any()
    assert nb201.output_depends_on_input([ZEN_CELL])[0]


@pytest.mark.parametrize("name", UNDEFINED)
def test_undefined_proxies_rank_disconnected_cells_last(name, nb201):
    archs = nb201.index([ALL_NONE, NO_PATH, ZEN_CELL])
    sw = score_archs(default_registry().get(name), name, nb201, "cifar10", archs,
                     experiment_seed=1, seed=0, batch_size=16, device="cpu")
    assert np.isneginf(sw.scores[:2]).all() and np.isfinite(sw.scores[2])


def test_worst_scores_are_ranked_not_dropped():
    rng = np.random.default_rng(0)
    acc = np.array([10.0, 10.0, 60.0, 70.0, 80.0, 90.0])
    worst = np.array([-np.inf, -np.inf, 1.0, 2.0, 4.0, 3.0])
    c = correlations(worst, acc, rng, n_boot=50)
    low = correlations(np.where(np.isinf(worst), -1e9, worst), acc, rng, n_boot=50)
    assert c["n"] == 6 and c["nan"] == 0 and c["worst"] == 2
    assert c["spearman"] == pytest.approx(low["spearman"])
    assert c["kendall"] == pytest.approx(low["kendall"])
    dropped = correlations(np.where(np.isinf(worst), np.nan, worst), acc, rng, n_boot=50)
    assert dropped["n"] == 4 and dropped["nan"] == 2


def test_score_command_explains_undefined_and_bad_input(nb201, harness_home, data_root):
    env = _env(harness_home, data_root)
    proc = run_cli("score", "nb201", ALL_NONE, "--proxy", "jacov", env=env)
    assert proc.returncode == 0 and "no input-to-output path" in proc.stdout
    assert "ranked last" in proc.stdout
    assert_one_line_error(run_cli("score", "nb201", "5", "--proxy", "vote", env=env),
                          "not a single zero-cost proxy")
    assert_one_line_error(run_cli("score", "nb201", "|bad|", "--proxy", "zen", env=env),
                          "not an architecture of nb201")
    assert_one_line_error(run_cli("score", "nb201", "5", "--proxy", "zen", "--device",
                                  "tpu", env=env), "--device tpu")
