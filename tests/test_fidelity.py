"""The 12-epoch NB201 schedule as a cheaper query for multi-fidelity methods."""

from __future__ import annotations

import numpy as np
import pytest

from harness.api import SearchStrategy
from harness.core.budget import Budget, Oracle
from harness.core.errors import BudgetExhausted, UnknownNameError
from harness.search.cells import Cell, run_search_cell


def test_low_fidelity_costs_a_fraction_and_never_sets_the_incumbent(nb201):
    o = Oracle(nb201, "cifar100", "valid_acc", Budget(queries=2))
    assert o.fidelities() == {"hp12": pytest.approx(12 / 200)}
    v = o.query_low(5, "hp12")
    assert v == nb201.query([5], "valid_acc_hp12", "cifar100")[0]
    assert o.usage.queries == pytest.approx(0.06) and o.order == []
    o.query_low(5, "hp12")  # repeated: free
    assert o.usage.queries == pytest.approx(0.06)
    with pytest.raises(UnknownNameError, match="did you mean 'hp12'"):
        o.query_low(5, "hp13")
    o.query(7)
    with pytest.raises(BudgetExhausted):
        o.query(8)  # 1.06 units used: a full query would overdraw the budget
    o.query_low(9, "hp12")  # what is left still pays for cheaper queries
    assert o.usage.queries == pytest.approx(1.12) and o.order == [7]


class _SuccessiveHalving(SearchStrategy):
    """Screen 40 archs at 12 epochs, then evaluate the best 4 at 200 epochs."""

    def _search(self, oracle, rng):
        cands = rng.permutation(oracle.num_archs)[:40]
        low = np.array([oracle.query_low(int(a), "hp12") for a in cands])
        for a in cands[np.argsort(-low)[:4]]:
            oracle.query(int(a))


def test_a_multi_fidelity_method_through_the_harness(nb201):
    row = run_search_cell(_SuccessiveHalving, Cell("sh", "nb201", "cifar100", 0,
                                                   Budget(queries=10), 1), nb201)
    assert row["queries_used"] == pytest.approx(40 * 0.06 + 4)
    assert row["result"]["low_fidelity_queries"] == 40
    assert len(row["result"]["trajectory"]["queries"]) == 4  # incumbents: full fidelity only
