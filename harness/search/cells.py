"""Search cells: (method, benchmark, dataset, seed index, budget). The harness owns each
cell's RNG stream, budget and oracle, and reads the reported test metric of the incumbent
itself; the method sees the search metric only. A cell takes milliseconds to seconds, so its
resume point is its start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.api import SearchStrategy
from harness.core.budget import Budget, Oracle
from harness.core.cell import Resources, RunEnv
from harness.core.cellbase import _get_bench, _now, provenance, selected
from harness.core.errors import BudgetExhausted, ConfigError, MethodError
from harness.core.guard import search_metric_only
from harness.core.seeds import cell_seed_sequence, generator
from harness.core.timelimit import DEFAULT_CELL_MINUTES, method_code
from harness.core.view import SearchView, audit


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

    # ---- the cell protocol (harness.core.cell) ----
    def label(self) -> str:
        return f"{self.method} on {self.benchmark}/{self.dataset} seed {self.seed}"

    def resources(self) -> Resources:
        return Resources(threads=1, torch=False, memory_mb=256)

    def resume_point(self) -> str:
        return "its start (a search cell takes seconds)"

    def run(self, env: RunEnv) -> dict[str, Any]:
        """The cell's result row, in whichever process runs it."""
        return run_search_cell(env.methods().get(self.method), self,
                               _get_bench(self.benchmark))


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
    if cell.budget.scores is not None:  # a training-free search: the harness's score table
        from harness.search.scores import score_table

        oracle.scores, oracle.score_seconds = score_table(bench, cell.dataset,
                                                          cell.budget.scores)
    if cell.budget.objective is not None:  # hardware-aware: the table's device costs
        from harness.search import hardware

        hardware.attach(oracle, bench, cell.dataset)
    seq = cell_seed_sequence(cell.experiment_seed, cell.method, cell.benchmark, cell.dataset,
                             cell.seed)
    rng = generator(seq)
    started, t0 = _now(), time.perf_counter()
    where = f"{cell.method} on {cell.benchmark}/{cell.dataset} seed {cell.seed}"
    # the method's code: its failures fail this cell only; it sees a SearchView (no way to
    # the table, the usage or the budget) and the table answers the search metric only
    with method_code(cell.minutes, where), search_metric_only(
            proto["search_dataset"], proto["search_metric"], where):
        method = method_cls()
        try:
            method._search(SearchView(oracle), rng)
        except BudgetExhausted:
            pass
    wall = time.perf_counter() - t0
    if not oracle.order:
        raise MethodError(f"{cell.method} returned without querying any architecture")
    table = bench.query(np.arange(bench.num_archs), proto["search_metric"],
                        proto["search_dataset"])  # read by the harness, after the search
    audit(oracle, cell.budget, table, where)
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
                   **(_scored(oracle, cell, bench, proto, order, times, method_cls)
                      if cell.budget.scores else {}),
                   **({"hardware": hardware.result(oracle, bench, proto)}
                      if cell.budget.objective else {}),
                   "budget": cell.budget.as_dict()},
        **provenance(), "started": started, "finished": _now(),
    }


def _scored(oracle: Oracle, cell: Cell, bench, proto: dict, order: np.ndarray,
            times: np.ndarray | None, method_cls) -> dict[str, Any]:
    """What a cell with a score table records: archs scored, the table, the seconds their
    scoring costs and, where the table has them, the training seconds of the archs
    queried (from ``times``, the cell's own, when its budget already read them)."""
    out: dict[str, Any] = {"archs_scored": oracle.usage.scored, "scores": cell.budget.scores,
                           "scoring_seconds": round(oracle.usage.scored
                                                    * oracle.score_seconds, 3)}
    trained = times[order] if times is not None else bench.train_time(
        order, proto["search_dataset"])
    if trained is not None:
        out["trained_seconds"] = round(float(np.nansum(trained)), 3)
    if method_cls.warm_start_of:
        out["warm_start_of"] = method_cls.warm_start_of
    return out


#: the most search cells one run may plan (a store row each)
MAX_CELLS = 1_000_000


# ---- planning -----------------------------------------------------------------------------
def plan_cells(profile: dict[str, Any], methods: dict[str, type], *,
               benchmarks: list[str] | None = None, datasets: list[str] | None = None,
               seeds: int | None = None, has_times=lambda b, d: False) -> list[Cell]:
    """Every cell the profile asks for, for the given (already loaded) methods; refuses a
    plan over :data:`MAX_CELLS` before allocating it."""
    cells: list[Cell] = []
    sec = profile.get("search")
    if not sec:
        return cells
    pairs = list(selected(sec, benchmarks, datasets))
    n_seeds = seeds if seeds is not None else sec["seeds"]
    n_methods = sum(issubclass(c, SearchStrategy) and setting(c) == "plain"
                    for c in methods.values())
    plain = n_seeds * n_methods * len(pairs)
    groups = [(bname, ds, budget, n, [name for name, _ in _applicable(methods, bname, kind)])
              for kind, bname, ds, budget, n in _special_groups(sec, benchmarks, datasets,
                                                                 seeds)]
    others = sum(n * len(names) for _b, _d, _bud, n, names in groups)
    if plain + others > MAX_CELLS:
        extra = (f" (+ {others:,} training-free, warm-start and hardware-aware cells)"
                 if others else "")
        raise ConfigError(f"{n_seeds} seeds x {n_methods} search methods x {len(pairs)} "
                          f"datasets = {plain:,} search cells{extra}, over "
                          f"the {MAX_CELLS:,} one run may plan; lower --seeds or filter with "
                          "--benchmark / --dataset")
    for bname, ds in pairs:
        bwt = sec.get("budget_with_times") or {}
        bspec = bwt.get(f"{bname}/{ds}", bwt.get(ds))
        budget = Budget(**bspec) if bspec and has_times(bname, ds) else Budget(
            **sec["budget"])
        for name, _cls in _applicable(methods, bname, "plain"):
            for s in range(n_seeds):
                cells.append(Cell(name, bname, ds, s, budget, profile["experiment_seed"]))
    for bname, ds, budget, n, names in groups:
        for name in names:
            for s in range(n):
                cells.append(Cell(name, bname, ds, s, budget, profile["experiment_seed"]))
    return cells


def _special_groups(sec: dict, benchmarks, datasets, seeds):
    """(setting, benchmark, dataset, budget, seeds) of the training-free, warm-start and
    hardware-aware sections: every budget they plan, before the methods that run it are
    chosen."""
    for kind in ("training_free", "warm_start"):
        tf = sec.get(kind)
        if tf:
            n = seeds if seeds is not None else tf["seeds"]
            for bname, ds in selected(tf, benchmarks, datasets):
                for spec in tf["budgets"]:
                    yield kind, bname, ds, Budget(**spec), n
    hw = sec.get("hardware")
    if hw:
        n = seeds if seeds is not None else hw["seeds"]
        for bname, ds in selected(hw, benchmarks, datasets):
            for objective in hw["objectives"]:
                yield "hardware", bname, ds, Budget(**hw["budget"], objective=objective,
                                                    cost_quantile=hw.get("cost_quantile")), n


def setting(cls: type[SearchStrategy]) -> str:
    """Which section of a profile plans a strategy: 'training_free', 'warm_start',
    'hardware' or 'plain'."""
    if cls.training_free:
        return "training_free"
    if cls.warm_start_of:
        return "warm_start"
    return "hardware" if cls.hardware_aware else "plain"


def _applicable(methods: dict[str, type], bname: str, kind: str):
    """(name, class) of the search strategies of this setting that apply to ``bname``."""
    for name, cls in methods.items():
        if not issubclass(cls, SearchStrategy) or setting(cls) != kind:
            continue
        if cls.benchmarks is not None and bname not in cls.benchmarks:
            continue
        yield name, cls
