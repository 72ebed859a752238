"""Pareto fronts and hypervolumes of two objectives (maximise accuracy, minimise a cost):
used by hardware-aware search cells (the front a method found) and the hardware report (the
table's true front), so both measure the same way."""

from __future__ import annotations

import numpy as np


def front(acc: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (maximise ``acc``, minimise ``cost``), sorted by
    cost; points with a NaN are left out. O(n log n): by cost, then accuracy descending, a
    point is on the front when it beats every cheaper point's accuracy."""
    acc, cost = np.asarray(acc, float), np.asarray(cost, float)
    ok = np.flatnonzero(np.isfinite(acc) & np.isfinite(cost))
    order = ok[np.lexsort((-acc[ok], cost[ok]))]
    keep, best = [], -np.inf
    for i in order:
        if acc[i] > best:
            keep.append(i)
            best = acc[i]
    return np.asarray(keep, dtype=np.int64)


def hypervolume(acc: np.ndarray, cost: np.ndarray, ref_acc: float, ref_cost: float) -> float:
    """Area dominated by the points (maximise acc, minimise cost) inside the reference box."""
    idx = front(acc, cost)
    a, c = np.asarray(acc, float)[idx], np.asarray(cost, float)[idx]
    inside = (a > ref_acc) & (c < ref_cost)
    a, c = a[inside], c[inside]
    if not len(a):
        return 0.0
    right = np.append(c[1:], ref_cost)  # the front is sorted by cost, accuracy rising
    return float(np.sum((right - c) * (a - ref_acc)))


def normalised_hypervolume(acc, cost, table_acc, table_cost) -> float:
    """The hypervolume of (acc, cost) with the table's worst accuracy and worst cost as the
    reference point, divided by the area of the box from the table's best values to it (so
    the true front of the table scores its own share of the box, and 1.0 would be one arch
    best on both axes)."""
    ta, tc = np.asarray(table_acc, float), np.asarray(table_cost, float)
    ok = np.isfinite(ta) & np.isfinite(tc)
    ref_a, ref_c = float(ta[ok].min()), float(tc[ok].max())
    box = (float(ta[ok].max()) - ref_a) * (ref_c - float(tc[ok].min()))
    return hypervolume(acc, cost, ref_a, ref_c) / box if box > 0 else 0.0
