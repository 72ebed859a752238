"""True Pareto fronts of accuracy against hardware cost: the fast sweep equals a brute-force
dominance check on the real NB201 table, and the hypervolume equals an independent
union-of-rectangles area."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.pareto import front, hypervolume
from harness.report.pareto import true_fronts


def _brute_front(acc: np.ndarray, cost: np.ndarray) -> set[tuple[float, float]]:
    """(cost, acc) of every point that no other point dominates (at least as good on both,
    better on one), checked against all points, in chunks."""
    ok = np.isfinite(acc) & np.isfinite(cost)
    a, c = acc[ok], cost[ok]
    keep = []
    for s in range(0, len(a), 1000):
        ai, ci = a[s:s + 1000, None], c[s:s + 1000, None]
        dominated = ((a[None] >= ai) & (c[None] <= ci) & ((a[None] > ai) | (c[None] < ci))
                     ).any(axis=1)
        keep += [(float(x), float(y)) for x, y in zip(c[s:s + 1000][~dominated],
                                                       a[s:s + 1000][~dominated], strict=True)]
    return set(keep)


@pytest.mark.parametrize("device", ["hw_pixel3_latency", "hw_edgegpu_latency"])
def test_the_front_matches_brute_force_on_the_table(nb201, device):
    ids = np.arange(nb201.num_archs)
    acc = nb201.query(ids, "test_acc", "cifar10")
    cost = nb201.cost(ids, device, "cifar10")
    f = front(acc, cost)
    assert {(float(cost[i]), float(acc[i])) for i in f} == _brute_front(acc, cost)
    assert np.all(np.diff(cost[f]) > 0) and np.all(np.diff(acc[f]) > 0)
    assert acc[f[-1]] == pytest.approx(94.37, abs=0.01)  # the table's optimum is on it


def _union_area(acc, cost, ref_a, ref_c) -> float:
    """Area of the union of the boxes [cost_i, ref_c] x [ref_a, acc_i], by coordinate
    compression (independent of the front)."""
    xs = np.unique(np.append(cost, ref_c))
    ys = np.unique(np.append(acc, ref_a))
    area = 0.0
    for x0, x1 in zip(xs[:-1], xs[1:], strict=True):
        for y0, y1 in zip(ys[:-1], ys[1:], strict=True):
            if np.any((cost <= x0) & (acc >= y1)):
                area += (x1 - x0) * (y1 - y0)
    return area


def test_hypervolume_is_the_area_of_the_union_of_boxes():
    rng = np.random.default_rng(3)
    for _ in range(20):
        acc, cost = rng.uniform(0, 1, 25), rng.uniform(0, 1, 25)
        assert hypervolume(acc, cost, 0.0, 1.0) == pytest.approx(
            _union_area(acc, cost, 0.0, 1.0), abs=1e-12)
    assert hypervolume(np.array([1.0]), np.array([0.0]), 0.0, 1.0) == 1.0  # best on both
    assert hypervolume(np.array([0.5, 1.0]), np.array([0.0, 0.5]), 0.0, 1.0) == 0.75


def test_true_fronts_of_the_nb201_table(nb201):
    recs = {(r["dataset"], r["device"]): r for r in true_fronts(nb201)}
    assert len(recs) == 9  # three datasets x (two latencies and one energy)
    r = recs[("cifar10", "hw_pixel3_latency")]
    ids = np.arange(nb201.num_archs)
    cost = nb201.cost(ids, "hw_pixel3_latency", "cifar10")
    assert r["archs"] == 15625 and 5 < len(r["front"]) < 200
    assert r["cheapest"]["cost"] == pytest.approx(float(np.nanmin(cost)), rel=1e-4)
    assert r["most_accurate"]["acc"] == pytest.approx(94.37, abs=0.01)
    assert all(0 < x["hypervolume"] < 1 for x in recs.values())
