"""Conformance checks every method must pass (like scikit-learn's ``check_estimator``).

``check_method(cls, bench)`` runs a method through the harness on a benchmark and asserts
that it never reads test metrics, passes valid arch ids, leaves its oracle alone, stays
within a time limit, respects the budget, is deterministic for a seed and returns valid
architectures. Plugin authors call it in their own test suites.
"""

from __future__ import annotations

from typing import Any

from harness.api import SearchStrategy
from harness.core.budget import Budget
from harness.core.errors import MethodError


def check_method(cls: type, bench: Any, dataset: str | None = None, queries: int = 30,
                 seeds: tuple[int, ...] = (0, 1), minutes: float = 1.0) -> list[str]:
    """Run the conformance checks; return the names of the checks passed, raise
    :class:`~harness.core.errors.MethodError` on the first failure. Each run is a real
    search cell (the harness's guard, audit and a ``minutes`` time limit apply): reading a
    metric other than the search metric, an arch id that is not an integer in range,
    tampering with the oracle's usage or budget, raising, exiting or looping past the limit
    all fail here, with the reason."""
    from harness.search.cells import Cell, run_search_cell

    passed: list[str] = []
    if not issubclass(cls, SearchStrategy):
        raise MethodError(f"{cls.__name__}: only search strategies are checked here")
    dataset = dataset or bench.tasks[0]
    free = getattr(cls, "training_free", False)
    # a training-free search scores ``queries`` archs with the table's params, trains one
    budget = Budget(queries=1, scored=queries, scores="params") if free else Budget(
        queries=queries)
    warm = bool(getattr(cls, "warm_start_of", None))
    if warm:  # a warm start scores a pool of 5 x ``queries`` archs, then trains ``queries``
        budget = Budget(queries=queries, scored=5 * queries, scores="params")
    if getattr(cls, "hardware_aware", False):  # the table's first device cost, constrained
        ds = dataset if dataset in bench.datasets else bench.datasets[0]
        hw = sorted(c for c in bench.h5.costs(ds) if c.startswith("hw_"))
        if not hw:
            raise MethodError(f"{cls.__name__} is hardware-aware and {bench.name} has no "
                              "device costs to check it with")
        budget = Budget(queries=queries, objective=hw[0], cost_quantile=0.25)
    rows = []
    for s in (*seeds, seeds[0]):
        cell = Cell(cls.__name__, bench.name, dataset, s, budget, 12345, minutes=minutes)
        rows.append(run_search_cell(cls, cell, bench))
    passed += ["never_reads_test_metrics", "valid_arch_ids", "leaves_its_oracle_alone",
               "within_time_limit"]
    # budget
    for r in rows:
        if free:
            n = r["result"].get("archs_scored", 0)
            if n != min(queries, bench.num_archs) or r["queries_used"] != 1:
                raise MethodError(f"{cls.__name__} scored {n} of {queries} archs and queried "
                                  f"{r['queries_used']} (a training-free search scores its "
                                  "allowance and queries one arch)")
            continue
        if warm and r["result"].get("archs_scored") != min(5 * queries, bench.num_archs):
            raise MethodError(f"{cls.__name__} scored {r['result'].get('archs_scored')} of "
                              f"a pool of {5 * queries} archs (a warm start scores its pool)")
        if r["queries_used"] > queries:
            raise MethodError(f"{cls.__name__} used {r['queries_used']} > {queries} queries")
        # cheaper fidelities are charged in fractions of a query: spent means that a full
        # query no longer fits in what is left
        left = min(queries, bench.num_archs) - r["queries_used"]
        if left >= (1.0 if r["result"]["low_fidelity_queries"] else 0.0) + 1e-9:
            raise MethodError(f"{cls.__name__} stopped after {r['queries_used']} of {queries} "
                              "queries without exhausting the budget")
    passed.append("respects_budget")
    # determinism for a seed
    if rows[0]["result"]["trajectory"] != rows[-1]["result"]["trajectory"]:
        raise MethodError(f"{cls.__name__} is not deterministic for a fixed seed (it draws from "
                          "a global RNG or unordered state)")
    passed.append("deterministic_for_seed")
    for r in rows:
        if not 0 <= r["incumbent"] < bench.num_archs:
            raise MethodError(f"{cls.__name__} returned an invalid incumbent {r['incumbent']}")
        if r["result"]["incumbent_id"] != str(bench.archs[r["incumbent"]]):
            raise MethodError(f"{cls.__name__}: incumbent id does not match its index")
    passed.append("returns_valid_archs")
    return passed


# ---- one-shot methods -------------------------------------------------------------------------
def _comparable(row: dict) -> dict:
    """A one-shot row without what differs between identical runs (timings, dates)."""
    from harness.core.store import without_volatile

    return {"incumbent": row["incumbent"], "test_value": row["test_value"],
            "result": without_volatile(row)["result"]}


def check_oneshot(cls: type, bench: Any, dataset: str = "cifar10", workdir: Any = None,
                  hyperparameters: dict | None = None) -> list[str]:
    """Conformance of a one-shot method on a tiny supernet (CPU): it trains exactly the
    budgeted epochs and steps, is deterministic for a seed, never touches the benchmark table
    while its hooks run, resumes after an interruption to the same row, and derives a valid
    cell. ``workdir`` holds checkpoints (a temporary folder by default)."""
    import tempfile
    from pathlib import Path
    from unittest import mock

    from adapters.base import Benchmark
    from harness.api import OneShotMethod
    from harness.core.cell import Paused
    from harness.data.h5layout import H5Benchmark
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.runner import run_oneshot_cell

    if not issubclass(cls, OneShotMethod):
        raise MethodError(f"{cls.__name__}: not a one-shot method")
    name = cls.__name__
    cfg = OneShotConfig("smoke", C=4, N=1, batch_size=16, train_images=64, valid_images=64,
                        epochs=2, eval_batch=64, eval_batches=1, bn_batches=1,
                        hyperparameters={name: hyperparameters or {}})
    inside = {"hook": None, "reads": [], "steps": 0}

    def hooked(fn, label):
        def wrapper(self, *a, **kw):
            inside["hook"] = label
            try:
                return fn(self, *a, **kw)
            finally:
                inside["hook"] = None
        return wrapper

    class _Tracked(cls):  # type: ignore[misc, valid-type]
        version = cls.version

        def _step(self, ctx, train, valid):
            inside["steps"] += 1
            if len(train[1]) != cfg.batch_size or len(valid[1]) != cfg.batch_size:
                raise MethodError(f"{name}: the harness gave a batch of the wrong size")
            return super()._step(ctx, train, valid)

    for hook in ("_setup", "_step", "_derive", "_epoch_begin", "_arch_weights"):
        setattr(_Tracked, hook, hooked(getattr(_Tracked, hook), hook))

    def spy(orig):
        def wrapper(self, *a, **kw):
            if inside["hook"]:
                inside["reads"].append(inside["hook"])
            return orig(self, *a, **kw)
        return wrapper

    def run(folder: Path, seed: int, stop_after: int | None = None) -> dict:
        cell = OneShotCell(name, bench.name, dataset, seed, cfg, 2, "cpu", 12345)
        return run_oneshot_cell(_Tracked, cell, bench, folder / f"s{seed}.pt",
                                stop_after=stop_after)

    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch.object(Benchmark, "query", spy(Benchmark.query)), \
            mock.patch.object(Benchmark, "cost", spy(Benchmark.cost)), \
            mock.patch.object(H5Benchmark, "array", spy(H5Benchmark.array)):
        base = Path(workdir or tmp)
        (base / "a").mkdir(parents=True, exist_ok=True)
        (base / "b").mkdir(parents=True, exist_ok=True)
        first = run(base / "a", 0)
        steps_per_epoch = cfg.train_images // cfg.batch_size
        if first["result"]["epochs_done"] != 2 or inside["steps"] != 2 * steps_per_epoch:
            raise MethodError(f"{name} ran {inside['steps']} steps in "
                              f"{first['result']['epochs_done']} epochs; budget is 2 epochs of "
                              f"{steps_per_epoch} steps")
        passed = ["respects_budget"]
        (base / "a" / "s0.pt").unlink()
        if _comparable(run(base / "a", 0)) != _comparable(first):
            raise MethodError(f"{name} is not deterministic for a fixed seed (global RNG, or "
                              "randomness not drawn from ctx.rng / ctx.torch_gen)")
        passed.append("deterministic_for_seed")
        if inside["reads"]:
            raise MethodError(f"{name} read the benchmark table inside {inside['reads'][0]}; "
                              "methods never see table values")
        passed.append("never_reads_the_table")
        try:
            run(base / "b", 0, stop_after=1)
        except Paused:
            pass
        if _comparable(run(base / "b", 0)) != _comparable(first):
            raise MethodError(f"{name}: a run resumed from its epoch-1 checkpoint differs from "
                              "an uninterrupted run (state not kept in ctx.state?)")
        passed.append("resumes_after_interruption")
        if not 0 <= first["incumbent"] < bench.num_archs:
            raise MethodError(f"{name} derived an invalid cell")
        passed.append("derives_a_valid_cell")
    return passed
