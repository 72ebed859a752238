"""Hardware-aware search on NB201: the oracle's device cost and constraint, the front and
hypervolume the harness reads from a search (against a brute-force dominance check and a
union-of-boxes area), the constrained methods' feasibility, NSGA-II against random, and the
profile section's checks."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.budget import Budget, Oracle
from harness.core.errors import ConfigError, MethodError
from harness.core.registry import default_registry
from harness.core.view import SearchView
from harness.run.profile import load_profile
from harness.search import hardware
from harness.search.cells import Cell, plan_cells, run_search_cell
from harness.testing import check_method
from tests.helpers import assert_bad_search_section
from tests.test_pareto import _brute_front, _union_area

pytestmark = pytest.mark.realdata
HW = ["hw-random", "hw-rea", "nsga2"]
PIXEL3 = "hw_pixel3_latency"


def _oracle(nb201, queries=150, quantile=0.25):
    o = Oracle(nb201, "cifar10-valid", "valid_acc",
               Budget(queries=queries, objective=PIXEL3, cost_quantile=quantile))
    hardware.attach(o, nb201, "cifar10")
    return o


@pytest.mark.parametrize("name", HW)
def test_conforms(name, nb201):
    assert len(check_method(default_registry().get(name), nb201, "cifar10")) == 7


def test_the_oracle_answers_the_tables_cost_and_its_quantile(nb201):
    o = _oracle(nb201)
    cost = nb201.cost(np.arange(15625), PIXEL3, "cifar10")
    assert o.cost_limit == pytest.approx(np.nanquantile(cost, 0.25))
    view = SearchView(o)
    assert view.cost(7) == cost[7] and view.cost_limit == o.cost_limit
    assert o.usage.queries == 0  # looking a cost up is free
    plain = Oracle(nb201, "cifar10-valid", "valid_acc", Budget(queries=3))
    with pytest.raises(MethodError, match="no hardware objective"):
        plain.cost(7)
    with pytest.raises(ConfigError, match="no such cost column"):
        hardware.attach(Oracle(nb201, "cifar10-valid", "valid_acc",
                               Budget(queries=3, objective="hw_toaster_latency")),
                        nb201, "cifar10")


@pytest.mark.parametrize("name", ["hw-random", "hw-rea"])
def test_constrained_methods_only_train_feasible_archs(name, nb201):
    o = _oracle(nb201)
    from harness.core.errors import BudgetExhausted

    with pytest.raises(BudgetExhausted):
        default_registry().get(name)()._search(SearchView(o), np.random.default_rng(0))
    assert len(o.order) == 150
    assert np.all(o.costs[np.array(o.order)] <= o.cost_limit)


def test_the_front_found_is_the_non_dominated_queried_archs(nb201):
    """NSGA-II after 150 queries: the front the harness records equals a brute-force
    dominance check over the queried archs (search metric, cost); its hypervolume equals
    the union-of-boxes area of those archs' (test, cost), normalised by the table's box;
    the best feasible arch is the best search metric within the limit."""
    o = _oracle(nb201)
    from harness.core.errors import BudgetExhausted

    with pytest.raises(BudgetExhausted):
        default_registry().get("nsga2")()._search(SearchView(o), np.random.default_rng(1))
    res = hardware.result(o, nb201, nb201.protocol("cifar10"))
    order = np.array(o.order)
    search = np.array([o.seen[a] for a in order])
    cost = o.costs[order]
    assert {(float(c), float(a)) for c, a in zip(cost[np.isin(order, res["front"])],
                                                 search[np.isin(order, res["front"])],
                                                 strict=True)} == _brute_front(search, cost)
    ids = np.arange(15625)
    test = nb201.query(ids, "test_acc", "cifar10")
    allc = o.costs
    ref_a, ref_c = np.nanmin(test), np.nanmax(allc)
    box = (np.nanmax(test) - ref_a) * (ref_c - np.nanmin(allc))
    f = np.array(res["front"])
    assert res["hypervolume"] == pytest.approx(
        _union_area(test[f], allc[f], ref_a, ref_c) / box, abs=1e-6)
    feas = order[cost <= o.cost_limit]
    best = feas[np.argmax([o.seen[a] for a in feas])]
    assert res["feasible_incumbent"] == best and res["feasible_test"] == test[best]
    assert res["front_test"] == [float(f"{t:.6g}") for t in test[f]]


def test_nsga2_finds_larger_hypervolumes_than_random_search(nb201):
    """Pixel 3 latency, CIFAR-10, 150 queries, 10 seeds (the default profile's 100 seeds:
    0.951 +- 0.004 vs 0.935 +- 0.006; the true front: 0.962)."""
    def hv(name):
        cls = default_registry().get(name)
        return np.mean([run_search_cell(cls, Cell(name, "nb201", "cifar10", s, Budget(
            queries=150, objective=PIXEL3, cost_quantile=0.25), 20261128), nb201)
            ["result"]["hardware"]["hypervolume"] for s in range(10)])

    nsga, rand = hv("nsga2"), hv("hw-random")
    assert rand < nsga < 0.962


def test_hardware_cells_are_planned_only_from_their_section():
    reg = default_registry()
    cells = plan_cells(load_profile("smoke"), {n: reg.get(n) for n in ("nsga2", "rea")})
    hw = [c for c in cells if c.method == "nsga2"]
    assert {c.budget.key() for c in hw} == {
        "queries=50,objective=hw_pixel3_latency,cost_quantile=0.25",
        "queries=50,objective=hw_edgegpu_latency,cost_quantile=0.25"}
    assert all(c.budget.objective is None for c in cells if c.method == "rea")


@pytest.mark.parametrize("section, needle", [
    ({"seeds": 2, "budget": {"queries": 5}, "objectives": ["latency"],
      "benchmarks": {"nb201": ["cifar10"]}}, "'search.hardware.objectives' must be"),
    ({"seeds": 2, "budget": {"queries": 5}, "objectives": [PIXEL3], "cost_quantile": 1.5,
      "benchmarks": {"nb201": ["cifar10"]}}, "'search.hardware.cost_quantile' must be"),
    ({"seeds": 2, "budget": {"queries": 5}, "objectives": [PIXEL3], "devices": [],
      "benchmarks": {"nb201": ["cifar10"]}}, "'search.hardware' must be an object with"),
])
def test_bad_hardware_sections_are_one_line(tmp_path, section, needle):
    assert_bad_search_section(tmp_path, "hardware", section, needle)
