"""Cell planning and execution: the engine behind ``python -m harness run`` (profiles are
loaded by :mod:`harness.profile`).

A *cell* is (method, benchmark, dataset, seed index, budget). The harness owns each cell's
RNG stream, budget and oracle, reads the reported test metric itself, and stores one row per
finished cell. Cells already in the store are skipped, so an interrupted run resumes.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.api import SearchStrategy
from harness.budget import Budget, Oracle
from harness.cellbase import (  # noqa: F401 - re-exported for callers of the runner
    _WORKER_BENCH,
    _get_bench,
    _now,
    provenance,
    selected,
)
from harness.errors import BudgetExhausted, HarnessError, MethodError
from harness.profile import load_profile, profile_names  # noqa: F401 - re-exported
from harness.seeds import cell_seed_sequence, generator
from harness.timelimit import DEFAULT_CELL_MINUTES, method_code


# ---- one cell -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    method: str
    benchmark: str
    dataset: str
    seed: int
    budget: Budget
    experiment_seed: int
    #: wall-clock limit of the cell in minutes (not part of its key; None or 0: none)
    minutes: float | None = DEFAULT_CELL_MINUTES

    def key(self, method_version: str, data_sha: str) -> tuple:
        return (self.method, method_version, self.benchmark, data_sha, self.dataset,
                self.seed, self.budget.key())


def run_search_cell(method_cls: type[SearchStrategy], cell: Cell, bench) -> dict[str, Any]:
    """Run one search cell and return its result row (the harness's template method)."""
    if not issubclass(method_cls, SearchStrategy):
        raise MethodError(f"{cell.method} is not a search strategy")
    proto = bench.protocol(cell.dataset)
    times = None
    if cell.budget.sim_seconds is not None:
        times = bench.train_time(np.arange(bench.num_archs), proto["search_dataset"])
    oracle = Oracle(bench, proto["search_dataset"], proto["search_metric"], cell.budget,
                    times=times)
    seq = cell_seed_sequence(cell.experiment_seed, cell.method, cell.benchmark, cell.dataset,
                             cell.seed)
    rng = generator(seq)
    method = method_cls()
    started, t0 = _now(), time.perf_counter()
    where = f"{cell.method} on {cell.benchmark}/{cell.dataset} seed {cell.seed}"
    with method_code(cell.minutes, where):  # a bug in the method fails this cell only
        try:
            method._search(oracle, rng)
        except BudgetExhausted:
            pass
    wall = time.perf_counter() - t0
    if not oracle.order:
        raise MethodError(f"{cell.method} returned without querying any architecture")
    # the harness, not the method, reads the reported metric of the incumbents
    order = np.asarray(oracle.order, dtype=np.int64)
    values = np.asarray([oracle.seen[a] for a in order])
    filled = np.where(np.isnan(values), -np.inf, values)
    # incumbent after each query: the first arch reaching the running maximum (ties keep
    # the earlier arch, so a later equal value never switches the reported test accuracy)
    running = np.maximum.accumulate(filled)
    first_pos = np.empty(len(filled), dtype=np.int64)
    cur = 0
    for i in range(len(filled)):
        if filled[i] > filled[cur]:
            cur = i
        first_pos[i] = cur
    incumbents = order[first_pos]
    report = bench.query(incumbents, proto["report_metric"], proto["report_dataset"])
    sim = None
    if times is not None:
        sim = np.cumsum(np.nan_to_num(times[order])).round(3).tolist()
    inc = int(incumbents[-1])
    return {
        "method": cell.method, "method_version": method_cls.version, "kind": method_cls.kind,
        "benchmark": cell.benchmark, "data_sha256": bench.content_sha256,
        "dataset": cell.dataset, "seed": cell.seed, "budget": cell.budget.key(),
        "search_on": f"{proto['search_dataset']}/{proto['search_metric']}",
        "report_on": f"{proto['report_dataset']}/{proto['report_metric']}",
        "note": proto["note"],
        "incumbent": inc, "search_value": float(running[-1]), "test_value": float(report[-1]),
        "queries_used": round(oracle.usage.queries, 6),
        "sim_seconds_used": oracle.usage.sim_seconds,
        "wall_seconds": wall, "config": method.config(),
        "result": {"incumbent_id": str(bench.archs[inc]),
                   "trajectory": {"queries": list(range(1, len(order) + 1)),
                                  "best_search": [float(x) for x in running],
                                  "incumbent_test": [float(x) for x in report],
                                  "sim_seconds": sim},
                   "low_fidelity_queries": oracle.usage.low_fidelity,
                   "budget": cell.budget.as_dict()},
        **provenance(), "started": started, "finished": _now(),
    }


# ---- planning -----------------------------------------------------------------------------
def plan_cells(profile: dict[str, Any], methods: dict[str, type], *,
               benchmarks: list[str] | None = None, datasets: list[str] | None = None,
               seeds: int | None = None, has_times=lambda b, d: False) -> list[Cell]:
    """Every cell the profile asks for, for the given (already loaded) methods."""
    cells: list[Cell] = []
    sec = profile.get("search")
    if not sec:
        return cells
    for bname, ds in selected(sec, benchmarks, datasets):
        bwt = sec.get("budget_with_times") or {}
        bspec = bwt.get(f"{bname}/{ds}", bwt.get(ds))
        budget = Budget(**bspec) if bspec and has_times(bname, ds) else Budget(
            **sec["budget"])
        for name, cls in methods.items():
            if not issubclass(cls, SearchStrategy):
                continue
            if cls.benchmarks is not None and bname not in cls.benchmarks:
                continue
            for s in range(seeds if seeds is not None else sec["seeds"]):
                cells.append(Cell(name, bname, ds, s, budget, profile["experiment_seed"]))
    return cells


def drop_unavailable(profile: dict[str, Any], warn) -> None:
    """Remove benchmarks that are neither converted nor in the data root (with a hint)."""
    import adapters
    from harness import config

    root = config.data_root()
    told = set()
    for sec, part in (("search", "benchmarks"), ("proxies", "benchmarks"),
                      ("proxies", "published_only"), ("oneshot", "benchmarks")):
        for b in list((profile.get(sec) or {}).get(part, {})):
            sp = adapters.spec(b)
            if not sp.shared_present(root) and not adapters.cache_path(b).exists():
                if b not in told:
                    warn(f"{b} skipped: not converted and not in the data root; run 'python "
                         f"-m harness data convert {b} --from FILE' with {sp.official_files}")
                    told.add(b)
                del profile[sec][part][b]


# ---- execution ----------------------------------------------------------------------------
def _run_cell_in_worker(cell: Cell, data_root: str | None) -> dict[str, Any]:
    from harness import config
    from harness.registry import default_registry

    if data_root:
        config.set_data_root(data_root)
    cls = default_registry().get(cell.method)
    return run_search_cell(cls, cell, _get_bench(cell.benchmark))


@dataclass
class RunSummary:
    ran: int = 0
    skipped: int = 0
    failed: list[str] | None = None
    sweep: Any = None  # harness.proxy_sweep.SweepReport of the proxy cells
    partial: int = 0  # proxy cells stored on part of their sample (time box reached)
    oneshot_paused: list[str] | None = None  # one-shot cells left for the next run


def execute(cells: list, store, registry, *, jobs: int = 1, progress: bool = True,
            proxy_minutes: float | None = None, oneshot_minutes: float | None = None,
            proxy_jobs: int | None = None) -> RunSummary:
    """Run cells not yet stored; insert each row as soon as its cell finishes. Search cells
    run first; then one proxy sweep scores the proxy cells' arch samples (for at most
    ``proxy_minutes`` when given; the scores are cached, so the next run continues) and
    every proxy cell is evaluated on what has been scored; then the one-shot cells run
    (each resumes from its last epoch checkpoint; with ``oneshot_minutes`` no epoch starts
    after that time box). ``proxy_jobs``: worker processes of the proxy sweep (default
    ``jobs``)."""
    from harness import config

    summary = RunSummary(failed=[])
    done = store.keys()
    todo: list[Cell] = []
    for c in cells:
        cls = registry.get(c.method)
        if c.key(cls.version, _get_bench(c.benchmark).content_sha256) in done:
            summary.skipped += 1
        else:
            todo.append(c)
    bar = None

    def new_bar(n: int, desc: str, unit: str = "cell"):
        """One bar per kind of cell: proxy cells take minutes, search cells milliseconds,
        so a shared bar would give a meaningless ETA."""
        nonlocal bar
        if bar is not None:
            bar.close()
        bar = None
        if progress and n:
            from tqdm import tqdm

            bar = tqdm(total=n, desc=desc, unit=unit, file=sys.stderr, mininterval=1.0,
                       dynamic_ncols=True)
        return bar

    def finish(cell: Cell, row: dict | None, err: str | None) -> None:
        if row is not None:
            store.insert(row)
            summary.ran += 1
        elif err is not None:
            summary.failed.append(f"{cell.method}/{cell.benchmark}/{cell.dataset}/seed "
                                  f"{cell.seed}: {err}")
        if bar is not None and bar.unit == "cell":  # other bars count steps or archs
            bar.update(1)

    root = config.data_root()
    from harness.oneshot import OneShotCell

    oneshot_todo = [c for c in todo if isinstance(c, OneShotCell)]
    proxy_todo = [c for c in todo if not isinstance(c, (Cell, OneShotCell))]
    todo = [c for c in todo if isinstance(c, Cell)]
    new_bar(len(todo), "search cells")
    if jobs <= 1:
        for c in todo:
            try:
                finish(c, run_search_cell(registry.get(c.method), c, _get_bench(c.benchmark)),
                       None)
            except HarnessError as exc:
                finish(c, None, str(exc))
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
            futs = {ex.submit(_run_cell_in_worker, c, str(root) if root else None): c
                    for c in todo}
            for fut in as_completed(futs):
                try:
                    finish(futs[fut], fut.result(), None)
                except HarnessError as exc:
                    finish(futs[fut], None, str(exc))
    if proxy_todo:
        _execute_proxies(proxy_todo, store, registry, summary, finish, new_bar,
                         proxy_minutes, proxy_jobs or jobs)
    if oneshot_todo:
        from harness.oneshot_runner import execute_oneshot

        summary.oneshot_paused = execute_oneshot(oneshot_todo, store, registry, finish,
                                                 new_bar, jobs, oneshot_minutes)
    if bar is not None:
        bar.close()
    return summary


#: a time-boxed proxy cell is stored only once this many archs of its sample are scored
MIN_SCORED = 10


def _execute_proxies(cells: list, store, registry, summary: RunSummary, finish, new_bar,
                     proxy_minutes: float | None, jobs: int = 1) -> None:
    """Sweep (score and cache), then evaluate each proxy cell on its scored archs."""
    import time

    from harness.proxy import ScoreCache
    from harness.proxy_runner import needed_proxies, run_proxy_cell, scored_cell
    from harness.proxy_sweep import sweep

    cache = ScoreCache(store.path)
    deadline = time.monotonic() + 60 * proxy_minutes if proxy_minutes else None
    report = sweep(cells, _get_bench, registry, cache, deadline=deadline,
                   bar=new_bar(1, "proxy sweep", unit="arch"), jobs=jobs)
    summary.sweep = report
    new_bar(len(cells), "proxy cells")
    done = store.keys()
    for c in cells:
        if not c.published and c.group in report.failed:
            finish(c, None, report.failed[c.group])
            continue
        gave_up = [(report.failed_proxies or {}).get((c.group, n)) for n in
                   ([] if c.published else needed_proxies(registry.get(c.method), c.method))]
        if any(gave_up):
            finish(c, None, next(w for w in gave_up if w))
            continue
        try:
            bench = _get_bench(c.benchmark)
            cls = registry.get(c.method)
            c = scored_cell(c, bench, registry, cache)
            if c.scored is not None:
                if c.scored < MIN_SCORED or c.key(cls.version, bench.content_sha256) in done:
                    finish(c, None, None)  # too few scored yet, or this partial state stored
                    continue
                summary.partial += 1
            finish(c, run_proxy_cell(cls, c, bench, registry, cache), None)
        except HarnessError as exc:
            finish(c, None, str(exc))
    cache.close()
