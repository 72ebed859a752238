"""Proxy-warm-started search: proxy score tables of the whole space (built through the
sweep, resumable), REA/BANANAS started from the top of a proxy-scored pool against an
independent re-run of the procedure, planning, bad sections and the report's pairing with
cold starts."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest

from harness.core.budget import Budget, Oracle
from harness.core.errors import BudgetExhausted, DataError
from harness.core.registry import default_registry
from harness.core.seeds import cell_seed_sequence, generator
from harness.core.view import SearchView
from harness.run import score_tables
from harness.run.profile import load_profile
from harness.search import proxy_tables
from harness.search.cells import Cell, plan_cells, run_search_cell
from harness.search.scores import score_table, unbuilt
from harness.testing import check_method
from tests.helpers import assert_bad_search_section

pytestmark = pytest.mark.realdata
SEED = 20261128


@pytest.fixture()
def tables(monkeypatch, tmp_path):
    """Proxy score tables in an empty folder of this test."""
    monkeypatch.setattr(proxy_tables, "folder", lambda: tmp_path / "score-tables")
    from harness.search import scores

    monkeypatch.setattr(scores, "_CACHE", {})
    return tmp_path / "score-tables"


def test_a_proxy_table_is_built_resumably_and_equals_the_proxy(nb201, tables):
    """The flops proxy (a table lookup, so the whole space takes seconds) scored on every
    arch through the sweep equals the table's flops column; a build stopped by its time box
    leaves no table, cells that read it fail saying how to go on, and the next build
    continues from the cached archs."""
    reg = default_registry()
    rep = score_tables.build("nb201", "cifar10", "flops", reg, deadline=time.monotonic())
    assert rep.path is None and 0 < rep.scored < rep.total == 15625
    with pytest.raises(DataError, match="not built yet"):
        score_table(nb201, "cifar10", "flops")
    cell = Cell("rea-zc", "nb201", "cifar10", 0, Budget(queries=10, scored=50,
                                                        scores="flops"), SEED)
    assert unbuilt([cell], reg) == [("nb201", "cifar10", "flops")]
    with pytest.raises(DataError, match="python -m harness run. builds it"):
        run_search_cell(reg.get("rea-zc"), cell, nb201)
    first = rep.scored
    rep = score_tables.build("nb201", "cifar10", "flops", reg)
    assert rep.path is not None and rep.scored == 15625 and first < 15625
    scores, seconds = score_table(nb201, "cifar10", "flops")
    assert np.array_equal(scores, nb201.cost(np.arange(15625), "flops", "cifar10"))
    assert seconds >= 0 and unbuilt([cell], reg) == []
    _, _, meta = proxy_tables.load(nb201, "cifar10", "flops", reg.get("flops").version)
    assert (meta["seed"], meta["experiment_seed"], meta["device"]) == (0, 0, "cpu")


def test_a_synflow_table_agrees_with_the_published_scores(nb201, tables, data_root):
    """The archs a short synflow build scores (the table's fixed initialisation) rank like
    NAS-Bench-Suite-Zero's published synflow scores of the same archs (measured on the
    whole built table: Spearman 0.9998 over its 9,445 CIFAR-10 archs)."""
    from scipy.stats import spearmanr

    from harness.proxies.cells import _scorer
    from harness.proxies.scoring import ScoreCache, published_scores

    reg = default_registry()
    rep = score_tables.build("nb201", "cifar10", "synflow", reg,
                             deadline=time.monotonic() + 4)
    assert rep.path is None and rep.scored >= 25
    cache = ScoreCache(tables / "scores.sqlite")
    cell = score_tables.table_cell(nb201, "cifar10", "synflow")
    ours = _scorer(reg, "synflow", nb201, cell, cache).have
    cache.close()
    pub = published_scores(nb201, "cifar10", data_root)["synflow"]
    both = [a for a in ours if a in pub and np.isfinite(ours[a][0])]
    assert len(both) >= 10
    rho = spearmanr([ours[a][0] for a in both], [pub[a] for a in both]).correlation
    assert rho > 0.98, (rho, len(both))


def test_published_tables_are_never_built(nb201):
    cell = Cell("rea-zc", "nb201", "cifar10", 0, Budget(queries=5, scored=9,
                                                        scores="params"), SEED)
    assert unbuilt([cell], default_registry()) == []


@pytest.mark.parametrize("method, of, k", [("rea-zc", "rea", 10), ("bananas-zc", "bananas",
                                                                    10)])
def test_warm_starts_begin_with_the_top_of_their_pool(nb201, method, of, k):
    """An independent re-run of the warmup from the cell's stream: the first N archs of a
    uniform permutation, ranked by the table's score (first drawn on ties); the first k
    trained archs are exactly the best k, in that order; then the strategy goes on."""
    reg = default_registry()
    params, _ = score_table(nb201, "cifar10", "params")
    valid = nb201.query(np.arange(15625), "valid_acc", "cifar10-valid")
    for s in range(3):
        budget = Budget(queries=30, scored=200, scores="params")
        row = run_search_cell(reg.get(method), Cell(method, "nb201", "cifar10", s, budget,
                                                    SEED), nb201)
        pool = generator(cell_seed_sequence(SEED, method, "nb201", "cifar10", s)
                         ).permutation(15625)[:200]
        top = pool[sorted(range(200), key=lambda i: (-params[pool[i]], i))[:k]]
        traj = row["result"]["trajectory"]["best_search"]
        assert traj[k - 1] == pytest.approx(valid[top].max())
        o = Oracle(nb201, "cifar10-valid", "valid_acc", budget)  # the same run, by hand
        o.scores, o.score_seconds = params, 0.0
        with contextlib.suppress(BudgetExhausted):
            reg.get(method)()._search(SearchView(o), generator(cell_seed_sequence(
                SEED, method, "nb201", "cifar10", s)))
        assert list(o.order[:k]) == [int(a) for a in top] and len(o.order) == 30
        assert row["result"]["archs_scored"] == 200 and row["queries_used"] == 30
        assert row["result"]["warm_start_of"] == of
        assert row["result"]["scoring_seconds"] == 0.0  # the params table costs nothing
        assert row["budget"] == "queries=30,scored=200,scores=params"


@pytest.mark.parametrize("method", ["rea-zc", "bananas-zc"])
def test_warm_starts_conform(nb201, method):
    assert len(check_method(default_registry().get(method), nb201, "cifar10")) == 7


def test_warm_starts_are_planned_only_from_their_section():
    reg = default_registry()
    methods = {n: reg.get(n) for n in ("rea-zc", "rea", "naswot")}
    cells = plan_cells(load_profile("smoke"), methods)
    warm = [c for c in cells if c.method == "rea-zc"]
    assert {c.budget.key() for c in warm} == {"queries=50,scored=500,scores=params"}
    assert len(warm) == 3 and {(c.benchmark, c.dataset) for c in warm} == {
        ("nb201", "cifar10")}
    assert all(c.budget.scored is None for c in cells if c.method == "rea")
    assert all(c.budget.queries == 1 for c in cells if c.method == "naswot")
    default = plan_cells(load_profile("default"), methods, benchmarks=["nb201"])
    assert {c.budget.key() for c in default if c.method == "rea-zc"} == {
        "queries=150,scored=3000,scores=synflow"}


@pytest.mark.parametrize("section, needle", [
    ({"seeds": 2, "budgets": [{"queries": 5, "scored": 10, "scores": "nosuch"}],
      "benchmarks": {"nb201": ["cifar10"]}}, "'search.warm_start.budgets[0].scores' must "
                                             "name a score table"),
    ({"seeds": 0, "budgets": [{"queries": 5, "scored": 10, "scores": "synflow"}],
      "benchmarks": {"nb201": ["cifar10"]}}, "'search.warm_start.seeds' must be"),
    ({"seeds": 2, "budgets": [], "benchmarks": {}}, "'search.warm_start.budgets' must be"),
])
def test_bad_warm_start_sections_are_one_line(tmp_path, section, needle):
    assert_bad_search_section(tmp_path, "warm_start", section, needle)


def test_the_report_pairs_warm_and_cold_starts(nb201, tmp_path):
    """The section's numbers are the rows' own: warm and cold means over seeds at the same
    query budget, and seeds within 0.1 of the optimum counted from the trajectories."""
    from harness.report import warm_start

    reg = default_registry()
    rows = []
    for m, budget in (("rea-zc", Budget(queries=40, scored=300, scores="params")),
                      ("rea", Budget(queries=40))):
        rows += [run_search_cell(reg.get(m), Cell(m, "nb201", "cifar10", s, budget, SEED),
                                 nb201) for s in range(4)]
    (tmp_path / "figures").mkdir()
    sec = warm_start.section(rows, tmp_path, best=lambda b, r: (94.3733, True))
    (rec,) = sec["records"]
    warm = [r["test_value"] for r in rows if r["method"] == "rea-zc"]
    cold = [r["test_value"] for r in rows if r["method"] == "rea"]
    assert rec["test_mean"] == pytest.approx(np.mean(warm), abs=1e-4)
    assert rec["cold"]["test_mean"] == pytest.approx(np.mean(cold), abs=1e-4)
    assert rec["cold"]["method"] == "rea" and rec["scored"] == 300
    assert rec["budget"] == "queries=40"
    hits = sum(max(r["result"]["trajectory"]["incumbent_test"]) >= 94.2733 for r in rows
               if r["method"] == "rea-zc")
    assert rec["within_margin"]["seeds"] == hits
    assert "top of 300 by params" in sec["markdown"]
    # a simulated-seconds budget pairs the same way (e.g. TransNAS-Bench-101's)
    timed = [dict(r, budget=r["budget"].replace("queries=40", "sim_seconds=9000"))
             for r in rows]
    (rec2,) = warm_start.section(timed, tmp_path)["records"]
    assert rec2["budget"] == "sim_seconds=9000" and rec2["cold"]["seeds"] == 4
    assert (tmp_path / "figures" / "warm_start_search.png").exists()


def test_the_estimate_times_an_unbuilt_table_and_its_cells(nb201, tables):
    """A profile whose warm starts read a synflow table not built yet: the estimate times
    synflow on a few archs and scales it to the whole space, and times the search cell
    with the params table in its place (the same array read)."""
    from harness.run.estimate import _search_lines, _table_lines

    reg = default_registry()
    cells = [c for c in plan_cells(load_profile("default"), {"rea-zc": reg.get("rea-zc")},
                                   benchmarks=["nb201"], datasets=["cifar10"], seeds=2)]
    tables = unbuilt(cells, reg)
    (line,) = _table_lines(tables, reg, 2)
    assert line.kind == "score table" and line.units == 15625 and line.unit_seconds > 0
    assert line.what == "synflow on every arch of nb201/cifar10"
    (search,) = _search_lines(cells, reg, tables)
    assert search.cells == 2 and "params table for the synflow table" in search.notes[0]


def test_scoring_the_pool_is_charged_to_simulated_seconds(nb201):
    """Where the table has training times, each arch scored costs the score table's seconds
    per arch in simulated seconds, on top of the training seconds of the queries; a repeat
    is free, and the budget ends when the seconds are spent."""
    times = np.full(15625, 100.0)
    o = Oracle(nb201, "cifar10-valid", "valid_acc",
               Budget(sim_seconds=302.0, scored=1000, scores="params"), times=times)
    o.scores, o.score_seconds = score_table(nb201, "cifar10", "params")[0], 0.5
    view = SearchView(o)
    for a in (3, 4, 3, 5, 6):
        view.score(a)
    assert o.usage.scored == 4 and o.usage.sim_seconds == pytest.approx(2.0)
    view.query(7)
    view.query(8)
    assert o.usage.sim_seconds == pytest.approx(202.0)
    view.query(9)  # 302 of 302 simulated seconds: spent exactly
    with pytest.raises(BudgetExhausted):
        view.query(10)
