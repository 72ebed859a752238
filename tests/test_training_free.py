"""Training-free search: score tables, the oracle's ``score`` allowance, NASWOT search
against an independent re-implementation and the published NASWOT numbers."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.budget import Budget, Oracle
from harness.core.errors import BudgetExhausted, ConfigError, MethodError
from harness.core.registry import default_registry
from harness.core.seeds import cell_seed_sequence, generator
from harness.core.view import SearchView, audit
from harness.run.profile import load_profile
from harness.search.cells import Cell, plan_cells, run_search_cell
from harness.search.scores import score_table
from harness.testing import check_method
from tests.helpers import assert_bad_search_section

pytestmark = pytest.mark.realdata
SEED = 20261128
#: reference_numbers.json row 27 (VERIFIED): NASWOT search on NB201 CIFAR-10, test accuracy
#: over 500 runs, N=10 and N=100 (mean, std)
PUBLISHED = {10: (91.53, 1.62), 100: (91.61, 1.71)}


def _budget(n, table="naswot-v1"):
    return Budget(queries=1, scored=n, scores=table)


def test_the_naswot_table_is_the_authors_file(nb201, data_root):
    """Every NB201 arch has the score of its row in the authors' file (whose accuracy
    column is the table's CIFAR-10 test accuracy: the rows are aligned); the 341 cells whose
    output ignores the input (NaN in the file) score -inf."""
    from harness.data import safe_pickle

    scores, seconds = score_table(nb201, "cifar10", "naswot-v1")
    assert scores.shape == (15625,) and seconds == pytest.approx(0.1741)
    raw = safe_pickle.load_frame(data_root / "nb201-naswot" / "arch_score_acc.pd")
    test = nb201.query(np.arange(15625), "test_acc", "cifar10")
    assert np.allclose(np.asarray(raw["test_top1"], float), test, atol=1e-4)
    dead = ~nb201.output_depends_on_input(np.arange(15625))
    assert dead.sum() == 341 and np.all(scores[dead] == -np.inf)
    assert np.array_equal(scores[~dead], np.asarray(raw["score"], float)[~dead])
    assert np.all(np.isfinite(scores[~dead]))
    with pytest.raises(ConfigError, match="nb201/cifar10 only"):
        score_table(nb201, "cifar100", "naswot-v1")


def test_the_oracle_charges_scores_and_the_audit_recounts_them(nb201):
    o = Oracle(nb201, "cifar10-valid", "valid_acc", _budget(3))
    o.scores, o.score_seconds = score_table(nb201, "cifar10", "naswot-v1")
    view = SearchView(o)
    for a in (4, 5, 4, 6):  # the repeat is free
        view.score(a)
    assert o.usage.scored == 3 and o.usage.queries == 0
    with pytest.raises(BudgetExhausted):
        view.score(7)
    view.query(5)
    audit(o, o.budget, nb201.query(np.arange(15625), "valid_acc", "cifar10-valid"), "t")
    o.seen_scores[4] = 1e9  # a forged score fails the row
    with pytest.raises(MethodError, match="scored 1000000000"):
        audit(o, o.budget, nb201.query(np.arange(15625), "valid_acc", "cifar10-valid"), "t")
    plain = Oracle(nb201, "cifar10-valid", "valid_acc", Budget(queries=3))
    with pytest.raises(MethodError, match="no proxy score table"):
        plain.score(4)


def test_naswot_search_picks_the_best_scored_of_its_draws(nb201):
    """An independent re-run of the paper's procedure from the cell's stream: the first N
    archs of a uniform permutation, the highest score (first drawn on ties), its test
    accuracy read from the table."""
    cls = default_registry().get("naswot")
    scores, _ = score_table(nb201, "cifar10", "naswot-v1")
    test = nb201.query(np.arange(15625), "test_acc", "cifar10")
    for n in (10, 100):
        for s in range(5):
            row = run_search_cell(cls, Cell("naswot", "nb201", "cifar10", s, _budget(n), SEED),
                                  nb201)
            draws = generator(cell_seed_sequence(SEED, "naswot", "nb201", "cifar10", s)
                              ).permutation(15625)[:n]
            best = int(draws[np.argmax(scores[draws])])
            assert row["incumbent"] == best and row["test_value"] == test[best]
            assert row["queries_used"] == 1 and row["result"]["archs_scored"] == n
            assert row["budget"] == f"queries=1,scored={n},scores=naswot-v1"


@pytest.mark.parametrize("n", [10, 100])
def test_naswot_search_is_within_one_published_std(nb201, n):
    """500 runs, as in the paper: the mean test accuracy is within one published standard
    deviation of the published mean (row 27; measured 91.64 +- 1.72 and 91.26 +- 1.73)."""
    cls = default_registry().get("naswot")
    acc = np.array([run_search_cell(cls, Cell("naswot", "nb201", "cifar10", s, _budget(n),
                                              SEED), nb201)["test_value"]
                    for s in range(500)])
    mean, std = PUBLISHED[n]
    assert abs(acc.mean() - mean) < std
    assert 0.5 * std < acc.std() < 1.5 * std


def test_conforms_with_a_params_table(nb201):
    assert len(check_method(default_registry().get("naswot"), nb201, "cifar10")) == 7


def test_training_free_cells_are_planned_only_from_their_section():
    reg = default_registry()
    methods = {n: reg.get(n) for n in ("naswot", "rea")}
    prof = load_profile("smoke")
    cells = plan_cells(prof, methods)
    free = [c for c in cells if c.method == "naswot"]
    assert {c.budget.key() for c in free} == {"queries=1,scored=10,scores=naswot-v1"}
    assert {(c.benchmark, c.dataset) for c in free} == {("nb201", "cifar10")}
    assert all(c.budget.scored is None for c in cells if c.method == "rea")


@pytest.mark.parametrize("budget, needle", [
    ({"queries": 1, "scored": 10}, "'search.training_free.budgets[0].scores' must name"),
    ({"queries": 1, "scored": 0, "scores": "naswot-v1"},
     "'search.training_free.budgets[0].scored' must be a whole number"),
    ({"queries": 1, "scored": 10, "scores": "nwot-v9"}, "must name a score table"),
])
def test_bad_training_free_budgets_are_one_line(tmp_path, budget, needle):
    assert_bad_search_section(tmp_path, "training_free", {
        "seeds": 2, "budgets": [budget], "benchmarks": {"nb201": ["cifar10"]}}, needle)
