"""Budgets and the oracle: what a search method sees, charged by the harness.

The :class:`Oracle` exposes only the benchmark's *search metric* (validation accuracy where
the table has it) and the search-space operations. Each newly queried architecture costs one
query and, where the table has training times, its simulated training seconds; re-querying a
seen architecture is free. When the budget is spent the oracle raises
:class:`~harness.core.errors.BudgetExhausted`, which the harness catches. Test metrics are read by
the harness only after the method returns (:func:`harness.search.cells.run_search_cell`).

Three optional settings widen what a method sees, each set by the cell's budget: cheaper
fidelities of the search metric (``query_low``, charged at their fraction of a query; a full
query never overdraws what they leave), a proxy score table (``score``, training-free
search, charged per arch scored) and a device cost (``cost`` and ``cost_limit``,
hardware-aware search, free to look up).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harness.core.errors import BudgetExhausted, ConfigError, MethodError


def arch_id(arch: Any, num_archs: int) -> int:
    """``arch`` as an index, if it is an integer in range (MethodError otherwise)."""
    if isinstance(arch, (bool, np.bool_)) or not isinstance(arch, (int, np.integer)):
        raise MethodError(f"arch ids are integers in 0..{num_archs - 1}; the method passed "
                          f"{arch!r} ({type(arch).__name__})")
    a = int(arch)
    if not 0 <= a < num_archs:
        raise MethodError(f"method queried arch {a}, outside 0..{num_archs - 1}")
    return a



@dataclass(frozen=True)
class Budget:
    """A search budget: new-arch queries and/or simulated training seconds; for a
    training-free search also ``scored``, the archs it may score with the proxy table
    ``scores`` (:mod:`harness.search.scores`); for a hardware-aware search ``objective``,
    the table's device cost the oracle answers ``cost(arch)`` with, and optionally
    ``cost_quantile``, the constraint: a cost at most that quantile of the table's."""

    queries: int | None = None
    sim_seconds: float | None = None
    scored: int | None = None
    scores: str | None = None
    objective: str | None = None
    cost_quantile: float | None = None

    def __post_init__(self) -> None:
        if self.queries is None and self.sim_seconds is None:
            raise ConfigError("a budget needs 'queries' or 'sim_seconds'")
        q = self.queries
        if q is not None and (isinstance(q, bool) or not isinstance(q, (int, np.integer))
                              or q < 1):
            raise ConfigError(f"budget queries must be a whole number >= 1, got {q!r} (the "
                              "results key records it exactly)")
        s = self.sim_seconds
        if s is not None and (isinstance(s, bool) or not isinstance(s, (int, float))
                              or not math.isfinite(s) or s <= 0):
            raise ConfigError(f"budget sim_seconds must be a positive finite number, got {s!r}")
        n = self.scored
        if (n is None) != (self.scores is None):
            raise ConfigError("a training-free budget needs both 'scored' (archs to score) "
                              "and 'scores' (the score table's name)")
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))
                              or n < 1):
            raise ConfigError(f"budget scored must be a whole number >= 1, got {n!r}")
        cq = self.cost_quantile
        if cq is not None and (self.objective is None or isinstance(cq, bool) or
                               not isinstance(cq, (int, float)) or not 0 < cq <= 1):
            raise ConfigError(f"budget cost_quantile must be a number in (0, 1] with an "
                              f"'objective', got {cq!r}")

    def key(self) -> str:
        """Stable text used in the results key."""
        parts = []
        if self.queries is not None:
            parts.append(f"queries={int(self.queries)}")
        if self.sim_seconds is not None:
            parts.append(f"sim_seconds={float(self.sim_seconds):g}")
        if self.scored is not None:
            parts.append(f"scored={int(self.scored)},scores={self.scores}")
        if self.objective is not None:
            parts.append(f"objective={self.objective}")
        if self.cost_quantile is not None:
            parts.append(f"cost_quantile={float(self.cost_quantile):g}")
        return ",".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Usage:
    queries: float = 0  # full-fidelity query units (a 12-epoch query costs 12/200)
    sim_seconds: float = 0.0
    requests: int = 0  # every call, including free re-queries
    low_fidelity: int = 0  # archs queried at a cheaper fidelity
    scored: int = 0  # archs scored with the cell's proxy table


@dataclass
class Oracle:
    """The search method's only window on a benchmark."""

    bench: Any
    search_dataset: str
    search_metric: str
    budget: Budget
    times: np.ndarray | None = None  # train seconds per arch, if the table has them
    usage: Usage = field(default_factory=Usage)
    seen: dict[int, float] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    seen_low: dict[tuple[int, str], float] = field(default_factory=dict)
    #: the cell's proxy score table and its seconds per arch (training-free budgets)
    scores: np.ndarray | None = None
    score_seconds: float = 0.0
    seen_scores: dict[int, float] = field(default_factory=dict)
    #: the device cost of every arch and the constraint (hardware-aware budgets)
    costs: np.ndarray | None = None
    cost_limit: float | None = None
    _col: np.ndarray | None = None
    _fidelities: dict[str, float] | None = None

    def __post_init__(self) -> None:
        self._col = self.bench.query(np.arange(self.bench.num_archs, dtype=np.int64),
                                     self.search_metric, self.search_dataset)
        if self.budget.sim_seconds is not None and self.times is None:
            raise ConfigError(f"{self.bench.name} has no training times; use a query budget")

    # ---- the search space -------------------------------------------------------------------
    @property
    def num_archs(self) -> int:
        return self.bench.num_archs

    def sample(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        return self.bench.sample(rng, n)

    def mutate(self, arch: int, rng: np.random.Generator) -> int:
        return int(self.bench.mutate(arch_id(arch, self.num_archs), rng))

    def neighbours(self, arch: int) -> np.ndarray:
        return self.bench.neighbours(arch_id(arch, self.num_archs))

    def encode(self, archs) -> np.ndarray:
        return self.bench.encode(np.asarray(archs, dtype=np.int64))

    @property
    def num_edges(self) -> int:
        return int(self.encode([0]).shape[1])

    @property
    def num_ops(self) -> int:
        return int(self.bench.space.encodings.max()) + 1

    @property
    def choice_sizes(self) -> tuple[int, ...]:
        """Choices per position for per-position samplers (REINFORCE): the space's own
        policy space where it has one (NB101: edge bits and ops), else num_ops per edge."""
        sizes = getattr(self.bench.space, "choice_sizes", None)
        return tuple(sizes) if sizes is not None else (self.num_ops,) * self.num_edges

    def index_of_choices(self, choices) -> int | None:
        """The arch for one draw of every position of :attr:`choice_sizes`, or None."""
        f = getattr(self.bench.space, "index_of_choices", None)
        return f(choices) if f is not None else self.index_of_encoding(choices)

    def index_of_encoding(self, enc) -> int | None:
        """The arch with this encoding, or None if the space has no such arch (some spaces,
        e.g. TNB101 macro, are not a full product of per-position choices)."""
        from harness.core.errors import InvalidArchError

        try:
            return int(self.bench.space.index_of_ops(enc))
        except InvalidArchError:
            return None

    # ---- budget -----------------------------------------------------------------------------
    def remaining(self) -> float:
        """Fraction of the budget left (0 when spent)."""
        fr = []
        if self.budget.queries is not None:
            fr.append(1 - self.usage.queries / self.budget.queries)
        if self.budget.sim_seconds is not None:
            fr.append(1 - self.usage.sim_seconds / self.budget.sim_seconds)
        return max(0.0, min(fr))

    def exhausted(self) -> bool:
        return self.remaining() <= 0

    def _charge_check(self, cost: float) -> None:
        """BudgetExhausted unless a query costing ``cost`` query units may start: the budget
        is not spent and, for a query budget, the query fits in what is left (a full query
        never overdraws what cheaper fidelities left over; a simulated-seconds budget lets
        the last query finish, as the NATS-Bench protocol does)."""
        if self.exhausted() or (self.budget.queries is not None and
                                self.usage.queries + cost > self.budget.queries + 1e-9):
            raise BudgetExhausted("budget spent")

    def query(self, arch: int) -> float:
        """The search metric of ``arch``; charges the budget for an arch not seen before."""
        self.usage.requests += 1
        if self.usage.requests > 1_000_000:
            raise MethodError("method made over 10^6 oracle calls without spending its budget "
                              "(it re-queries seen archs in a loop)")
        arch = arch_id(arch, self.num_archs)
        if arch in self.seen:
            return self.seen[arch]
        self._charge_check(1.0)
        value = float(self._col[arch])
        self.usage.queries += 1
        if self.times is not None:
            t = float(self.times[arch])
            self.usage.sim_seconds += t if math.isfinite(t) else 0.0
        self.seen[arch] = value
        self.order.append(arch)
        return value

    def fidelities(self) -> dict[str, float]:
        """Cheaper fidelities of the search metric and their cost in query units, e.g.
        ``{"hp12": 0.06}`` on NB201 (the 12-epoch schedule costs 12/200 of a query)."""
        if self._fidelities is not None:
            return self._fidelities
        out = {}
        full = max(self.bench.h5.metric_attrs(self.search_dataset, self.search_metric)
                   ["epochs"])
        for m in self.bench.metrics(self.search_dataset):
            if m.startswith(self.search_metric + "_hp"):
                fid = m[len(self.search_metric) + 1:]
                ep = max(self.bench.h5.metric_attrs(self.search_dataset, m)["epochs"])
                out[fid] = ep / full if full > 0 else 1.0
        self._fidelities = out
        return out

    def query_low(self, arch: int, fidelity: str) -> float:
        """The search metric of ``arch`` at a cheaper fidelity (see :meth:`fidelities`).

        Charged at the fidelity's cost, free when repeated; it never makes an arch the
        incumbent: only full-fidelity queries (:meth:`query`) do.
        """
        costs = self.fidelities()
        if fidelity not in costs:
            from harness.core.errors import unknown

            raise unknown(f"fidelity of {self.bench.name}", fidelity, costs)
        self.usage.requests += 1
        arch = arch_id(arch, self.num_archs)
        key = (arch, fidelity)
        if key in self.seen_low:
            return self.seen_low[key]
        self._charge_check(costs[fidelity])
        value = float(self.bench.query(np.array([arch], dtype=np.int64),
                                       f"{self.search_metric}_{fidelity}",
                                       self.search_dataset)[0])
        self.usage.queries += costs[fidelity]
        if self.times is not None:
            t = float(self.times[arch]) * costs[fidelity]
            self.usage.sim_seconds += t if math.isfinite(t) else 0.0
        self.usage.low_fidelity += 1
        self.seen_low[key] = value
        return value

    def score(self, arch: int) -> float:
        """The proxy score of ``arch`` from the cell's score table (no training): one of the
        budget's ``scored`` archs, free when repeated; where the benchmark has training
        times the table's seconds per arch are charged too."""
        if self.scores is None:
            raise MethodError("this cell has no proxy score table: its budget names none "
                              "(a training-free method runs with 'scored' and 'scores')")
        self.usage.requests += 1
        arch = arch_id(arch, self.num_archs)
        if arch in self.seen_scores:
            return self.seen_scores[arch]
        if self.usage.scored >= self.budget.scored:
            raise BudgetExhausted("proxy scores spent")
        value = float(self.scores[arch])
        self.usage.scored += 1
        if self.times is not None:
            self.usage.sim_seconds += self.score_seconds
        self.seen_scores[arch] = value
        return value

    def cost(self, arch: int) -> float:
        """The device cost (latency, energy) of ``arch`` from the table: free, since
        measuring an untrained network on the device needs no training."""
        if self.costs is None:
            raise MethodError("this cell has no hardware objective: its budget names none "
                              "(a hardware-aware method runs with an 'objective')")
        return float(self.costs[arch_id(arch, self.num_archs)])

    def query_many(self, archs) -> np.ndarray:
        out = []
        for a in np.atleast_1d(archs):
            out.append(self.query(a))
        return np.asarray(out)
