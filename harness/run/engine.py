"""The engine behind ``python -m harness run``: cells already in the store are skipped,
the rest run on an executor (:mod:`harness.run.executors`), and each finished cell's row is
inserted by the driver -- this process -- as soon as it comes back, keyed by the cell, so a
killed run resumes and a retried cell is stored exactly once.

Phases, each through the same executor: search cells; the proxy sweep (chunks of arch
samples scored and cached), then every proxy cell evaluated here on what was scored; then
one-shot cells (each resumes from its last epoch checkpoint). Profiles are loaded by
:mod:`harness.run.profile`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from harness.core.cell import RunEnv
from harness.core.cellbase import _get_bench
from harness.core.errors import ConfigError, HarnessError
from harness.core.runlog import StageClock
from harness.oneshot.cells import OneShotCell
from harness.proxies.cells import ProxyCell
from harness.run.executors import Executor, InlineExecutor, PoolExecutor, oneshot_workers
from harness.run.sweeping import sweep
from harness.search.cells import Cell


def drop_unavailable(profile: dict[str, Any], warn, benchmarks: list[str] | None = None,
                     kinds: set[str] | None = None) -> None:
    """Remove benchmarks that are neither converted nor in the data root, with a hint for
    each one this run would have touched (``benchmarks``: the run's benchmark filter;
    ``kinds``: the kinds of method it runs — a section no method of the run uses, or a
    benchmark outside the filter, is dropped without a warning)."""
    import adapters
    from harness.core import config

    root = config.data_root()
    told = set()
    section_kind = {"search": "search", "proxies": "proxy", "oneshot": "oneshot"}
    for sec, part in (("search", "benchmarks"), ("proxies", "benchmarks"),
                      ("proxies", "published_only"), ("oneshot", "benchmarks")):
        for b in list((profile.get(sec) or {}).get(part, {})):
            sp = adapters.spec(b)
            if not sp.shared_present(root) and not adapters.cache_path(b).exists():
                touched = (not benchmarks or b in benchmarks) and (
                    kinds is None or section_kind[sec] in kinds)
                if b not in told and touched:
                    warn(f"{b} skipped: not converted and not in the data root; run 'python "
                         f"-m harness data convert {b} --from FILE' with {sp.official_files}")
                    told.add(b)
                del profile[sec][part][b]


# ---- executors ----------------------------------------------------------------------------
EXECUTORS = ("local", "ray")


def make_executor(kind: str = "local", jobs: int = 1, address: str | None = None,
                  retries: int | None = None) -> Executor:
    """The executor ``run --executor KIND`` asks for (ConfigError on a bad choice)."""
    if kind == "local":
        if address:
            raise ConfigError("--address is for --executor ray; drop it or add "
                              "'--executor ray'")
        return PoolExecutor(jobs) if jobs > 1 else InlineExecutor()
    if kind == "ray":
        from harness.run.ray_executor import RayExecutor

        return RayExecutor(address=address, jobs=jobs if jobs > 1 else None,
                           retries=retries)
    raise ConfigError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")


# ---- execution ----------------------------------------------------------------------------
@dataclass
class RunSummary:
    ran: int = 0
    skipped: int = 0
    failed: list[str] | None = None
    sweep: Any = None  # harness.proxies.sweep.SweepReport of the proxy cells
    #: harness.run.score_tables.BuildReport of each score table built for search cells
    tables: list = field(default_factory=list)
    partial: int = 0  # proxy cells stored on part of their sample (time box reached)
    oneshot_paused: list[str] | None = None  # one-shot cells left for the next run
    executor: str = "inline"
    stages: dict[str, float] = field(default_factory=dict)  # wall seconds per stage
    left: int = 0  # planned cells still not stored (failed, paused, time-boxed)


class _Bars:
    """One progress bar per kind of cell: proxy cells take minutes, search cells
    milliseconds, so a shared bar would give a meaningless ETA."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar = enabled, None

    def new(self, n: int, desc: str, unit: str = "cell"):
        self.close()
        if self.enabled and n:
            from tqdm import tqdm

            # delay: a bar appears only after a second (no stray "0/1" before the sweep
            # knows its size, no flash of a phase that ends at once); smoothing 0: the ETA
            # is the work left at this run's average rate, not at the last few items' (one
            # slow first arch once promised 87 hours)
            self.bar = tqdm(total=n, desc=desc, unit=unit, file=sys.stderr, mininterval=1.0,
                            dynamic_ncols=True, delay=1.0, smoothing=0)
        return self.bar

    def tick(self, n: int = 1) -> None:
        if self.bar is not None and self.bar.unit == "cell":  # other bars count steps/archs
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None


def pending(cells: list, store, registry) -> list:
    """The cells whose row is not in ``store`` yet, in order."""
    done = store.keys()
    return [c for c in cells if c.key(registry.get(c.method).version,
                                      _get_bench(c.benchmark).content_sha256) not in done]


def execute(cells: list, store, registry, *, jobs: int = 1, progress: bool = True,
            proxy_minutes: float | None = None, oneshot_minutes: float | None = None,
            proxy_jobs: int | None = None, executor: Executor | None = None,
            batch_seeds: int = 1, clock: StageClock | None = None,
            oneshot_jobs: int | None = None) -> RunSummary:
    """Run the cells not yet stored; insert each row as soon as its cell finishes. Search
    cells run first; then one proxy sweep scores the proxy cells' arch samples (for at most
    ``proxy_minutes`` when given; the scores are cached, so the next run continues) and
    every proxy cell is evaluated on what has been scored; then the one-shot cells run
    (each resumes from its last epoch checkpoint; with ``oneshot_minutes`` no cell starts
    after that time box and running ones stop after their current epoch).

    ``executor``: where cells run (default: this process for ``jobs`` 1, else a local pool
    of ``jobs`` workers; the sweep gets a pool of ``proxy_jobs`` workers and the one-shot
    cells one of ``oneshot_jobs``, each cell with one torch thread). ``batch_seeds``:
    up to that many seeds of a one-shot method train as one stacked supernet
    (:mod:`harness.oneshot.batched`), with the same rows. ``clock`` gets the wall seconds
    of each stage (also in ``summary.stages``)."""
    from harness.oneshot.runner import checkpoint_folder

    summary = RunSummary(failed=[])
    clock = clock or StageClock()
    summary.stages = clock.seconds
    todo = pending(cells, store, registry)
    summary.skipped = len(cells) - len(todo)
    bars = _Bars(progress)
    if progress:
        kinds = {"search cells": Cell, "proxy cells": ProxyCell, "one-shot cells": OneShotCell}
        print("[harness] to run: " + ", ".join(
            f"{sum(isinstance(c, k) for c in todo)} {name}" for name, k in kinds.items())
            + f" ({summary.skipped} cells already stored)", file=sys.stderr)

    def finish(cell, row: dict | None, err: str | None) -> None:
        if row is not None:
            if store.insert(row):  # False: a retried cell whose row is already stored
                summary.ran += 1
        elif err is not None:
            summary.failed.append(f"{cell.method}/{cell.benchmark}/{cell.dataset}/seed "
                                  f"{cell.seed}: {err}")
        bars.tick()

    owned: list[Executor] = []

    def local(n: int) -> Executor:
        ex = PoolExecutor(n) if n > 1 else InlineExecutor()
        owned.append(ex)
        return ex

    search = [c for c in todo if isinstance(c, Cell)]
    proxy = [c for c in todo if isinstance(c, ProxyCell)]
    oneshot = [c for c in todo if isinstance(c, OneShotCell)]
    try:
        main = executor or local(jobs)
        summary.executor = main.name
        if search:
            with clock.stage("score tables"):
                _build_tables(search, registry, summary, bars, proxy_minutes, executor,
                              proxy_jobs or jobs)
            bars.new(len(search), "search cells")
            with clock.stage("search cells"):
                for out in main.map(search, RunEnv(registry=registry)):
                    finish(out.unit, out.value, out.error)
        if proxy:
            _execute_proxies(proxy, store, registry, summary, finish, bars, proxy_minutes,
                             executor, proxy_jobs or jobs, clock)
        if oneshot:
            # one-shot cells side by side, one torch thread each (the rows do not depend
            # on where a cell ran); a single cell stays in this process
            n = oneshot_workers(oneshot_jobs, jobs, len(oneshot))
            ex = local(n) if executor is None and n > jobs else main
            with clock.stage("one-shot cells"):
                summary.oneshot_paused = _execute_oneshot(
                    oneshot, ex, checkpoint_folder(store.path), finish, bars,
                    oneshot_minutes, registry, batch_seeds)
    finally:
        bars.close()
        for ex in owned:
            ex.close()
    summary.left = len(todo) - summary.ran + summary.partial
    return summary


def _build_tables(cells: list[Cell], registry, summary: RunSummary, bars,
                  minutes: float | None, executor: Executor | None, jobs: int) -> None:
    """Score the whole space for every proxy score table the search cells read that is not
    built yet (:mod:`harness.run.score_tables`; resumable, within the proxy time box).
    A table left incomplete fails only the cells that read it, each with how to go on."""
    from harness.run import score_tables
    from harness.search.scores import unbuilt

    deadline = time.monotonic() + 60 * minutes if minutes else None
    for bname, ds, proxy in unbuilt(cells, registry):
        bar = bars.new(1, f"score table {proxy} {bname}/{ds}", unit="arch")
        rep = score_tables.build(bname, ds, proxy, registry, jobs=jobs, executor=executor,
                                 bar=bar, deadline=deadline)
        summary.tables.append(rep)


def _execute_oneshot(cells: list[OneShotCell], ex: Executor, folder, finish, bars,
                     minutes: float | None, registry, batch_seeds: int = 1) -> list[str]:
    """One-shot cells; their checkpoints are dropped once their row is stored. With
    ``minutes``, no cell starts after that time box (the first ``ex.slots`` always do, so a
    short box still makes progress) and running cells pause after the epoch that ends past
    it. Returns one line per cell left unfinished."""
    from harness.oneshot.batched import SeedGroup, group_seeds
    from harness.oneshot.runner import cell_checkpoint, paused_line, total_steps

    deadline = time.time() + 60 * minutes if minutes else None
    env = RunEnv(checkpoints=str(folder), deadline=deadline, registry=registry)
    if ex.inline:
        bar = bars.new(total_steps(cells), "one-shot steps", unit="step")

        def tick(cell, epoch, step, steps):
            if bar is not None:
                bar.set_postfix_str(f"{cell.method} {cell.dataset} seed {cell.seed} epoch "
                                    f"{epoch + 1}/{cell.epochs}", refresh=False)
                bar.update(1)

        env.progress = tick
    else:
        bars.new(len(cells), "one-shot cells")
    paused: list[str] = []
    stop = (lambda i: i >= ex.slots and time.time() > deadline) if deadline else None
    for out in ex.map(group_seeds(cells, batch_seeds, registry), env, stop):
        group = isinstance(out.unit, SeedGroup)  # its value: one row per member cell
        members = list(out.unit.cells) if group else [out.unit]
        values = out.value if group and out.value is not None else [out.value] * len(members)
        for c, value in zip(members, values, strict=True):
            if out.skipped or out.paused:
                paused.append(paused_line(c, out.paused[0] if out.paused else 0))
                continue
            finish(c, value, out.error)
            if value is not None:
                cell_checkpoint(c, folder, registry).unlink(missing_ok=True)
    return paused


#: a time-boxed proxy cell is stored only once this many archs of its sample are scored
MIN_SCORED = 10


def _execute_proxies(cells: list, store, registry, summary: RunSummary, finish, bars,
                     proxy_minutes: float | None, executor: Executor | None, jobs: int,
                     clock: StageClock) -> None:
    """Sweep (score and cache), then evaluate each proxy cell here on its scored archs."""
    from harness.proxies.scoring import ScoreCache

    cache = ScoreCache(store.path)
    deadline = time.monotonic() + 60 * proxy_minutes if proxy_minutes else None
    with clock.stage("proxy sweep"):
        report = sweep(cells, _get_bench, registry, cache, deadline=deadline,
                       bar=bars.new(1, "proxy sweep", unit="arch"), jobs=jobs,
                       executor=executor)
    summary.sweep = report
    bars.new(len(cells), "proxy cells")
    with clock.stage("proxy cells"):
        _evaluate_proxy_cells(cells, store, registry, summary, finish, report, cache)
    cache.close()


def _evaluate_proxy_cells(cells: list, store, registry, summary: RunSummary, finish, report,
                          cache) -> None:
    """Each proxy cell on the archs the sweep scored (stored once enough are)."""
    from harness.proxies.cells import needed_proxies, run_proxy_cell, scored_cell

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
