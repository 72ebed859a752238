"""What a search method holds: a :class:`SearchView` of the harness's oracle -- the search
space and the search metric, nothing else -- and the audit of its row.

The view forwards a fixed set of calls and constants; it has no attribute leading to the
benchmark, the table, the usage or the budget, and cannot be modified, so a method cannot
read the test metric through it, reset what it spent or swap its budget. Arch ids are
checked at the door: integers in range, never silently cast (``2.7`` or ``"3"`` are
errors). After the method returns, :func:`audit` recounts the cell from the oracle's history
against the table and the budget; a row that disagrees is a failed cell, never a result.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.core.budget import Budget, Oracle, arch_id  # noqa: F401 - arch_id re-exported
from harness.core.errors import MethodError

#: calls a search method may make
CALLS = ("query", "query_many", "query_low", "fidelities", "score", "cost", "sample",
         "mutate", "neighbours", "encode", "remaining", "exhausted", "index_of_choices",
         "index_of_encoding")
#: constants of the search space
CONSTANTS = ("num_archs", "num_edges", "num_ops", "choice_sizes", "cost_limit")


def _forward(fn):
    def call(*args, **kwargs):
        return fn(*args, **kwargs)

    call.__name__, call.__doc__ = fn.__name__, fn.__doc__
    return call


class SearchView:
    """A search method's only window on a benchmark (see the module docstring): ``query``,
    ``query_many``, ``query_low``, ``fidelities``, ``score`` (training-free cells only),
    ``cost`` and ``cost_limit`` (hardware-aware cells only),
    ``sample``, ``mutate``, ``neighbours``, ``encode``, ``remaining``, ``exhausted``,
    ``index_of_choices``, ``index_of_encoding`` and the constants ``num_archs``,
    ``num_edges``, ``num_ops``, ``choice_sizes``."""

    __slots__ = CALLS + CONSTANTS

    def __init__(self, oracle: Oracle):
        for name in CALLS:
            object.__setattr__(self, name, _forward(getattr(oracle, name)))
        for name in CONSTANTS:
            object.__setattr__(self, name, getattr(oracle, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise MethodError(f"a search method cannot change its oracle (tried to set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise MethodError(f"a search method cannot change its oracle (tried to delete "
                          f"{name!r})")

    def __repr__(self) -> str:
        return f"SearchView({self.num_archs} archs)"


def audit(oracle: Oracle, budget: Budget, column: np.ndarray, who: str) -> None:
    """Recount a finished search from the oracle's history (MethodError on a mismatch): the
    budget is the cell's, every recorded value is the table's, the usage equals the cost of
    the archs queried, and that cost stayed within the budget (the last query may finish
    a sim-seconds budget, as it does under the NATS-Bench protocol)."""
    bad = f"{who}: its oracle was tampered with"
    if oracle.budget is not budget and oracle.budget != budget:
        raise MethodError(f"{bad} (budget {oracle.budget.key()} instead of {budget.key()})")
    order = list(oracle.order)
    if len(set(order)) != len(order) or set(order) != set(oracle.seen):
        raise MethodError(f"{bad} (its query history does not match the archs it saw)")
    for a in order:
        v, t = oracle.seen[a], column[a]
        if not (v == t or (math.isnan(v) and math.isnan(t))):
            raise MethodError(f"{bad} (arch {a} recorded as {v}, the table says {t})")
    if budget.scored is not None:
        if len(oracle.seen_scores) != oracle.usage.scored or \
                oracle.usage.scored > budget.scored:
            raise MethodError(f"{bad} (it scored {len(oracle.seen_scores)} archs, usage "
                              f"says {oracle.usage.scored}, budget {budget.scored})")
        for a, v in oracle.seen_scores.items():
            if v != oracle.scores[a]:
                raise MethodError(f"{bad} (arch {a} scored {v}, the table says "
                                  f"{oracle.scores[a]})")
    costs = oracle.fidelities() if oracle.seen_low else {}
    queries = len(order) + sum(costs[f] for (_a, f) in oracle.seen_low)
    if not math.isclose(queries, oracle.usage.queries, abs_tol=1e-6):
        raise MethodError(f"{bad} (usage says {oracle.usage.queries:g} queries, its history "
                          f"{queries:g})")
    if budget.queries is not None and queries > budget.queries + 1e-6:
        raise MethodError(f"{who} used {queries:g} queries of a {budget.queries}-query budget")
    if budget.sim_seconds is not None and oracle.times is not None:
        t = np.nan_to_num(oracle.times[np.asarray(order, dtype=np.int64)]) if order else []
        before_last = float(np.sum(t[:-1])) if len(t) else 0.0
        if before_last > budget.sim_seconds * (1 + 1e-9):
            raise MethodError(f"{who} queried past a {budget.sim_seconds:g}-second budget")
