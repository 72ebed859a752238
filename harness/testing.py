"""Conformance checks every method must pass (like scikit-learn's ``check_estimator``).

``check_method(cls, bench)`` runs a method through the harness on a benchmark and asserts
that it respects the budget, is deterministic for a seed, never reads test metrics, and only
ever queries valid architectures. Plugin authors call it in their own test suites.
"""

from __future__ import annotations

from typing import Any

from harness.api import SearchStrategy
from harness.budget import Budget
from harness.errors import MethodError


class _SpyBenchmark:
    """Wraps a Benchmark and records every metric read while the method runs."""

    def __init__(self, bench: Any):
        self._bench = bench
        self.reads: list[tuple[str, str]] = []
        self.recording = True

    def query(self, ids, metric, dataset, epoch=None, seed=None):
        if self.recording:
            self.reads.append((dataset, metric))
        return self._bench.query(ids, metric, dataset, epoch=epoch, seed=seed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bench, name)


def check_method(cls: type, bench: Any, dataset: str | None = None, queries: int = 30,
                 seeds: tuple[int, ...] = (0, 1)) -> list[str]:
    """Run the conformance checks; return the names of the checks passed, raise on failure."""
    from harness.runner import Cell

    passed: list[str] = []
    if not issubclass(cls, SearchStrategy):
        raise MethodError(f"{cls.__name__}: only search strategies are checked here")
    dataset = dataset or bench.tasks[0]
    budget = Budget(queries=queries)
    proto = bench.protocol(dataset)
    rows = []
    for s in (*seeds, seeds[0]):
        cell = Cell(cls.__name__, bench.name, dataset, s, budget, 12345)
        rows.append(_run_spied(cls, cell, _SpyBenchmark(bench)))
    # 1. budget
    for r in rows:
        if r["queries_used"] > queries:
            raise MethodError(f"{cls.__name__} used {r['queries_used']} > {queries} queries")
        if r["queries_used"] < min(queries, bench.num_archs):
            raise MethodError(f"{cls.__name__} stopped after {r['queries_used']} of {queries} "
                              "queries without exhausting the budget")
    passed.append("respects_budget")
    # 2. determinism for a seed; different seeds differ
    if rows[0]["result"]["trajectory"] != rows[-1]["result"]["trajectory"]:
        raise MethodError(f"{cls.__name__} is not deterministic for a fixed seed (it draws from "
                          "a global RNG or unordered state)")
    passed.append("deterministic_for_seed")
    # 3. never reads test metrics while searching
    for r in rows:
        leaked = [m for m in r["_reads"] if m != (proto["search_dataset"],
                                                   proto["search_metric"])]
        if leaked:
            raise MethodError(f"{cls.__name__} read {leaked} during search; methods may read "
                              f"only {proto['search_dataset']}/{proto['search_metric']}")
    passed.append("never_reads_test_metrics")
    # 4. valid archs
    for r in rows:
        if not 0 <= r["incumbent"] < bench.num_archs:
            raise MethodError(f"{cls.__name__} returned an invalid incumbent {r['incumbent']}")
        if r["result"]["incumbent_id"] != str(bench.archs[r["incumbent"]]):
            raise MethodError(f"{cls.__name__}: incumbent id does not match its index")
    passed.append("returns_valid_archs")
    return passed


def _run_spied(cls, cell, spy: _SpyBenchmark) -> dict:
    from harness.runner import run_search_cell

    # The oracle reads the search column once at construction; every read after that during
    # the method's run would be a leak. Record reads until the method returns, then stop
    # (the harness itself reads the report metric afterwards).
    reads: list[tuple[str, str]] = []

    class _Tracking(cls):  # type: ignore[misc, valid-type]
        version = cls.version

        def _search(self, oracle, rng):
            spy.reads.clear()
            try:
                super()._search(oracle, rng)
            finally:
                reads.extend(spy.reads)
                spy.recording = False

    _Tracking.__name__ = cls.__name__
    row = run_search_cell(_Tracking, cell, spy)
    row["_reads"] = reads
    return row
