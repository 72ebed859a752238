"""Zero-cost proxies: definitions against the published scores, the harness's determinism,
NaN accounting, the score cache, correlations and ensembles."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from harness.api import Proxy
from harness.core.correlation import correlations, rank_normalise
from harness.core.registry import default_registry
from harness.core.seeds import cell_seed_sequence
from harness.proxies.scoring import (
    ScoreCache,
    build_network,
    published_scores,
    score_archs,
)
from tests.helpers import run_cli

PROXIES = ["params", "flops", "grad_norm", "snip", "grasp", "fisher", "synflow", "jacov",
           "nwot", "ntk", "zen", "l2_norm"]
ENSEMBLES = ["vote", "rank-ensemble", "gbm-ensemble"]


def test_list_shows_12_proxies_and_3_ensembles():
    infos = {i["name"]: i for i in json.loads(run_cli("list", "--json", check=True).stdout)}
    for name in PROXIES + ENSEMBLES:
        assert infos[name]["kind"] == "proxy", name


@pytest.fixture(scope="module")
def sample(nb201, data_root):
    """20 archs stratified over cifar10 test accuracy among the published 9,445 nets."""
    pub = published_scores(nb201, "cifar10", data_root)
    keys = np.array(sorted(pub["snip"]))
    order = keys[np.argsort(nb201.query(keys, "test_acc", "cifar10"), kind="stable")]
    return pub, np.sort(np.array([s[len(s) // 2] for s in np.array_split(order, 20)]))


@pytest.mark.parametrize("name", ["synflow", "snip", "grad_norm", "jacov", "nwot"])
def test_our_scores_rank_like_the_published_ones(name, nb201, sample):
    from scipy.stats import spearmanr

    pub, archs = sample
    sw = score_archs(default_registry().get(name), name, nb201, "cifar10", archs,
                     experiment_seed=1, seed=0, batch_size=64, device="cpu")
    theirs = np.array([pub[name][a] for a in archs])
    assert not np.isnan(sw.scores).any()
    assert spearmanr(sw.scores, theirs).statistic >= 0.9


def test_params_and_flops_agree_with_published_on_all_nets(nb201, data_root):
    for ds in ("cifar10", "ImageNet16-120"):
        pub = published_scores(nb201, ds, data_root)
        a = np.array(sorted(pub["params"]))
        assert len(a) == 9445
        # params: exactly, up to units (the published ones are in millions)
        assert np.array_equal(np.array([pub["params"][i] for i in a]),
                              np.round(nb201.cost(a, "params", ds) / 1e6, 6))
        # flops: NASLib also counts ReLU/BN (3 C H^2 per conv edge) and pooling (9 C H^2 per
        # pool edge); ours is the official NB201 convention. The difference is exactly that
        # affine function of the op counts.
        theirs = np.array([pub["flops"][i] for i in a])
        enc = nb201.encode(a)
        res = {"cifar10": 32, "ImageNet16-120": 16}[ds]
        chw = 5 * sum(c * (res // 2**k) ** 2 for k, c in enumerate((16, 32, 64)))
        extra = (3 * chw * np.isin(enc, (2, 3)).sum(1) + 9 * chw * (enc == 4).sum(1)) / 1e6
        diff = theirs - nb201.cost(a, "flops", ds) - extra
        assert np.ptp(diff) < 1e-6  # a constant (stem/reduction/head terms)


def test_network_init_uses_no_global_rng(nb201):
    state = torch.random.get_rng_state()
    seq = cell_seed_sequence(1, "init:5", "nb201", "cifar10", 0)
    m1 = build_network(nb201, 5, "cifar10", seq, "cpu")
    m2 = build_network(nb201, 5, "cifar10", seq, "cpu")
    assert torch.equal(torch.random.get_rng_state(), state)
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(p, q)
    assert sum(p.numel() for p in m1.parameters()) == nb201.cost([5], "params", "cifar10")[0]


class _Recorder(Proxy):
    seen: list = []
    calls = 0

    def _score(self, ctx):
        type(self).calls += 1
        type(self).seen.append(float(ctx.inputs.sum()))
        return float("inf") if ctx.encoding[0] == 0 else float(ctx.inputs.mean())


def test_same_minibatch_for_every_arch_nan_counted_and_cache(nb201, tmp_path):
    first_none = next(i for i in range(200) if nb201.encode([i])[0][0] == 0)
    archs = np.array([1, 2, first_none])
    cache = ScoreCache(tmp_path / "s.sqlite")
    _Recorder.seen, _Recorder.calls = [], 0
    sw = score_archs(_Recorder, "rec", nb201, "cifar10", archs, experiment_seed=3, seed=0,
                     batch_size=16, device="cpu", cache=cache)
    assert len(set(_Recorder.seen)) == 1  # one minibatch for every arch of the seed
    assert np.isnan(sw.scores[2]) and np.isfinite(sw.scores[:2]).all()
    assert correlations(sw.scores, np.arange(3.0), np.random.default_rng(0))["nan"] == 1
    again = score_archs(_Recorder, "rec", nb201, "cifar10", archs, experiment_seed=3, seed=0,
                        batch_size=16, device="cpu", cache=cache)
    assert _Recorder.calls == 3  # served from the cache
    assert np.array_equal(again.scores, sw.scores, equal_nan=True)
    other = score_archs(_Recorder, "rec", nb201, "cifar10", archs[:1], experiment_seed=3,
                        seed=1, batch_size=16, device="cpu", cache=cache)
    assert other.scores[0] != sw.scores[0]  # another seed, another minibatch


def test_correlations_on_known_data():
    rng = np.random.default_rng(0)
    x = np.arange(50.0)
    c = correlations(x, x ** 3, rng, n_boot=100)
    assert c["spearman"] == pytest.approx(1) and c["kendall"] == pytest.approx(1)
    c = correlations(-x, x, rng, n_boot=100)
    assert c["spearman"] == pytest.approx(-1)
    y = x + rng.normal(0, 15, 50)
    c = correlations(x, y, rng, n_boot=300)
    assert c["spearman_ci"][0] < c["spearman"] < c["spearman_ci"][1]
    assert np.array_equal(rank_normalise(np.array([3.0, 1.0, np.nan, 2.0])),
                          np.array([1.0, 0.0, np.nan, 0.5]), equal_nan=True)


def test_vote_is_the_pairwise_majority():
    vote = default_registry().get("vote")()
    f = np.array([[0.9, 0.9, 0.1], [0.5, 0.5, 0.9], [0.1, 0.1, 0.5]])
    # arch 0 beats 1 on two of three proxies and 2 on two; arch 1 beats 2 on all three
    assert vote._combine(f, np.zeros(3, bool), np.array([]), None).tolist() == [2, 1, 0]


def test_fitted_ensembles_are_evaluated_on_held_out_archs(tmp_path, harness_home, data_root,
                                                          nb201):
    from harness.proxies.cells import ProxyCell, run_proxy_cell

    reg = default_registry()
    cell = ProxyCell("rank-ensemble", "nb201", "cifar10", 0, 0, 0, "none", 1, published=True)
    row = run_proxy_cell(reg.get("rank-ensemble"), cell, nb201, reg,
                         ScoreCache(tmp_path / "c.sqlite"))
    res = row["result"]
    assert res["fitted_on"] + res["evaluated_on"] == 9445
    assert res["test"]["n"] == res["evaluated_on"] == len(res["ranks"]["archs"])
    assert res["test"]["spearman"] > 0.85  # the published ensembles are strong


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_scores_match_cpu(nb201):
    reg = default_registry()
    for name in ("synflow", "snip", "nwot"):
        kw = dict(experiment_seed=1, seed=0, batch_size=64)
        cpu = score_archs(reg.get(name), name, nb201, "cifar10", np.array([11, 284]),
                          device="cpu", **kw)
        gpu = score_archs(reg.get(name), name, nb201, "cifar10", np.array([11, 284]),
                          device="cuda", **kw)
        assert np.allclose(cpu.scores, gpu.scores, rtol=1e-3)


def test_ntk_is_te_nas_condition_number(nb201):
    """Our vectorised NTK equals TE-NAS's definition computed the slow way: one backward of
    each sample's summed logits through the train-mode network (batch-norm couples the
    samples), gradients of the ``weight`` tensors, kappa = lambda_max / lambda_min."""
    from harness.proxies.scoring import ProxyContext

    reg = default_registry()
    cls = reg.get("ntk")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 32, 32, generator=gen)
    seq = cell_seed_sequence(1, "init:284", "nb201", "cifar10", 0)
    model = build_network(nb201, 284, "cifar10", seq, "cpu")
    logits = model.train()(x)
    rows = []
    for i in range(len(x)):
        model.zero_grad()
        logits[i].sum().backward(retain_graph=True)
        rows.append(torch.cat([p.grad.reshape(-1) for n, p in model.named_parameters()
                               if "weight" in n and p.grad is not None]))
    J = torch.stack(rows).double()
    eig = np.linalg.eigvalsh((J @ J.t()).numpy())
    fresh = build_network(nb201, 284, "cifar10", seq, "cpu")
    proxy = cls()
    proxy.batch = 6
    ctx = ProxyContext(model=fresh, inputs=x, targets=None, num_classes=10, encoding=None,
                       params=0.0, flops=0.0, generator=None, device="cpu")
    assert proxy._score(ctx) == pytest.approx(-eig[-1] / eig[0], rel=1e-4)


def test_vectorised_bootstrap_statistics_equal_scipy():
    """The bootstrap's row-wise Spearman and tau-b (ties included) equal scipy's."""
    from scipy.stats import kendalltau, rankdata, spearmanr

    from harness.core.correlation import _kendall_b, _row_pearson

    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 40))
    y = x + rng.normal(size=(6, 40))
    x[:, :6] = x[:, :1]  # ties, as repeated bootstrap draws make them
    y[:, 10:13] = 0.5
    pairs = list(zip(x, y, strict=True))
    assert np.allclose(_kendall_b(x, y), [kendalltau(a, b).statistic for a, b in pairs])
    assert np.allclose(_row_pearson(rankdata(x, axis=1), rankdata(y, axis=1)),
                       [spearmanr(a, b).statistic for a, b in pairs])
