"""BANANAS, Hyperband and BOHB: conformance on every shipped benchmark, their models and
schedules checked against what the papers define, and their searches against baselines."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.budget import Budget, Oracle
from harness.core.registry import default_registry
from harness.core.view import SearchView
from harness.search.cells import Cell, run_search_cell
from harness.testing import check_method
from methods.search._predictor import MlpEnsemble, one_hot
from methods.search.bohb import Bohb
from methods.search.hyperband import Hyperband

NEW = ["bananas", "hyperband", "bohb"]
pytestmark = pytest.mark.realdata


def _bench(name, nb201, tmp_path):
    import adapters

    if name == "nb201":
        return nb201, "cifar10"
    if name == "nb101":  # every cell on at most 5 vertices (no full NB101 in the data)
        from tests.test_nb101 import _complete_small_table

        _complete_small_table(tmp_path / "nb101.h5")
        return adapters.open_file("nb101", tmp_path / "nb101.h5"), "cifar10"
    return adapters.load_benchmark(name), "jigsaw"


@pytest.mark.parametrize("bench_name", ["nb201", "tnb101-micro", "tnb101-macro", "nb101"])
@pytest.mark.parametrize("name", NEW)
def test_conforms_on_every_shipped_benchmark(name, bench_name, nb201, tmp_path):
    bench, dataset = _bench(bench_name, nb201, tmp_path)
    assert check_method(default_registry().get(name), bench, dataset, minutes=2) == [
        "never_reads_test_metrics", "valid_arch_ids", "leaves_its_oracle_alone",
        "within_time_limit", "respects_budget", "deterministic_for_seed",
        "returns_valid_archs"]


def _view(nb201, queries):
    o = Oracle(nb201, "cifar10-valid", "valid_acc", Budget(queries=queries))
    return o, SearchView(o)


def test_the_ensemble_learns_an_additive_function_of_the_encoding(nb201):
    """Target: a sum of per-(edge, op) weights (exactly representable); 150 archs to fit,
    500 others to predict. The members differ (own initialisations) and agree with the
    target; the same stream gives the same ensemble."""
    _, view = _view(nb201, 10)
    rng = np.random.default_rng(0)
    w = rng.normal(size=30)
    archs = rng.permutation(nb201.num_archs)[:650]
    x = one_hot(view, archs)
    assert x.shape == (650, 30) and np.all(x.sum(axis=1) == 6)
    y = x @ w
    net = MlpEnsemble(np.random.default_rng(1)).fit(x[:150], y[:150])
    pred = net.predict(x[150:])
    assert pred.shape == (5, 500)
    err = np.abs(pred.mean(axis=0) - y[150:]).mean()
    assert err < 0.4 * np.abs(y[150:] - y[:150].mean()).mean()  # far better than the mean
    assert pred.std(axis=0).mean() > 1e-3  # the members disagree: an uncertainty to sample
    again = MlpEnsemble(np.random.default_rng(1)).fit(x[:150], y[:150]).predict(x[150:])
    assert np.array_equal(pred, again)


def test_refit_continues_from_the_fitted_weights(nb201):
    """``refit`` starts from the members' current weights (0 steps change nothing but the
    standardisation), lowers the training error on the grown data, keeps the members
    apart, and refuses an unfitted ensemble or another encoding width."""
    _, view = _view(nb201, 10)
    rng = np.random.default_rng(0)
    archs = rng.permutation(nb201.num_archs)[:150]
    x = one_hot(view, archs)
    y = nb201.query(archs, "valid_acc", "cifar10-valid")
    with pytest.raises(ValueError, match="fit"):
        MlpEnsemble(np.random.default_rng(1)).refit(x, y, 5)
    net = MlpEnsemble(np.random.default_rng(1)).fit(x[:100], y[:100])
    before = net.flat.copy()
    net.refit(x, y, 0)
    assert np.array_equal(net.flat, before)
    mae = np.abs(net.predict(x).mean(axis=0) - y).mean()
    net.refit(x, y, 25)
    assert np.abs(net.predict(x).mean(axis=0) - y).mean() < mae
    assert net.predict(x).std(axis=0).mean() > 1e-3
    with pytest.raises(ValueError, match="same encoding"):
        net.refit(x[:, :-1], y, 5)


@pytest.mark.parametrize("refit_epochs, fits, refits", [(0, 14, 0), (25, 1, 13)])
def test_bananas_fits_every_round_or_warm_starts(nb201, monkeypatch, refit_epochs, fits,
                                                 refits):
    """150 queries are 10 initial archs and 14 rounds of 10: the default fits a fresh
    ensemble every round (the paper's cold fit) and stops once the budget is spent (no fit
    whose proposals cannot be queried); ``refit_epochs=25`` fits once and warm-starts the
    members 13 times with 25 steps each."""
    from methods.search.bananas import Bananas

    calls = []
    fit, refit = MlpEnsemble.fit, MlpEnsemble.refit
    monkeypatch.setattr(MlpEnsemble, "fit", lambda s, x, y: calls.append(("fit", len(y)))
                        or fit(s, x, y))
    monkeypatch.setattr(MlpEnsemble, "refit", lambda s, x, y, e: calls.append(("refit", e))
                        or refit(s, x, y, e))
    o, view = _view(nb201, 150)
    Bananas(refit_epochs=refit_epochs)._search(view, np.random.default_rng(0))
    assert o.usage.queries == 150  # and no fit after the last query
    assert [c for c in calls if c[0] == "fit"][:1] == [("fit", 10)]
    assert sum(c[0] == "fit" for c in calls) == fits
    assert calls.count(("refit", 25)) == refits and len(calls) == fits + refits


@pytest.mark.slow
def test_bananas_40_step_fits_find_what_200_step_fits_find(nb201):
    """Version 2's cheaper fit, pinned (NB201 CIFAR-10, 150 queries, optimum 94.37). Over
    100 seeds 40 and 200 full-batch steps a round reach the same mean test accuracy (docs/
    search.md: 94.30 vs 94.31, and likewise on CIFAR-100 and ImageNet16-120); over the 20
    seeds here (version 3, float64 fits) 94.292 vs 94.373. A predictor trained 1 step a
    round reaches 94.187 on these seeds (REA: 94.172): the bound of 0.1 tells a fitted
    predictor from an unfitted one."""
    from methods.search.bananas import Bananas

    def mean(**kw):
        cls = type("B", (Bananas,), {"__init__": lambda self: Bananas.__init__(self, **kw)})
        return np.mean([run_search_cell(cls, Cell("bananas", "nb201", "cifar10", s,
                                                  Budget(queries=150), 20261128), nb201)
                        ["test_value"] for s in range(20)])

    assert mean() >= mean(epochs=200) - 0.1


def test_hyperband_promotes_the_best_third_of_each_low_rung(nb201):
    """eta 3, width 3, two levels (12 and 200 epochs): a round is a bracket of 9 archs at
    12 epochs whose best 3 go to 200 epochs, then 6 fresh archs at 200 epochs."""
    o, view = _view(nb201, 30)
    from harness.core.errors import BudgetExhausted

    with pytest.raises(BudgetExhausted):
        Hyperband()._search(view, np.random.default_rng(0))
    low = list(o.seen_low)  # (arch, fidelity) in query order
    assert all(f == "hp12" for _, f in low)
    first9 = [a for a, _ in low[:9]]
    hp12 = nb201.query(np.array(first9), "valid_acc_hp12", "cifar10-valid")
    best3 = [first9[i] for i in np.argsort(-hp12, kind="stable")[:3]]
    assert o.order[:3] == best3  # promoted: the top third at the low fidelity
    assert not set(o.order[3:9]) & set(first9)  # then a full-fidelity bracket of fresh archs
    # 3 rounds of 9 full + 9 low (28.62 units), a 4th round's low rung (29.16); its first
    # full query would overdraw the 30-query budget
    assert len(o.order) == 27 and len(low) == 36
    assert o.usage.queries == pytest.approx(27 + 36 * 0.06)


def test_bohb_density_ratio_prefers_the_good_archs(nb201):
    """The Aitchison-Aitken product kernel: a point's density is highest at itself, and the
    l/g ratio ranks an encoding of the good set above one of the bad set."""
    b = Bohb()
    good = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 2, 1]])
    bad = np.array([[3, 3, 3, 3, 3, 3], [3, 3, 0, 3, 3, 3]])
    x = np.vstack([good[:1], bad[:1]])
    lg = b._density(x, good, 5) / b._density(x, bad, 5)
    assert lg[0] > 1 > lg[1]
    assert b._density(good[:1], good[:1], 5)[0] == pytest.approx(0.8**6)


def _mean_test(name, nb201, seeds, queries=150):
    cls = default_registry().get(name)
    return np.mean([run_search_cell(cls, Cell(name, "nb201", "cifar10", s,
                                              Budget(queries=queries), 20261128), nb201)
                    ["test_value"] for s in range(seeds)])


@pytest.mark.slow
def test_model_based_searches_beat_their_model_free_counterparts(nb201):
    """Same seeds and budget on NB201 CIFAR-10 (optimum 94.37): BANANAS above random search,
    BOHB above Hyperband (measured over 30 seeds: 94.28 vs 93.89; 10 here)."""
    assert _mean_test("bananas", nb201, 4, queries=100) > _mean_test("random", nb201, 4,
                                                                      queries=100)
    assert _mean_test("bohb", nb201, 10) > _mean_test("hyperband", nb201, 10)
