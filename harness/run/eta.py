"""A run's ETA, measured at its start on a few units of each stage (what ``run`` prints
before it starts): the proxy of every score table not built yet on 2 archs, one search cell
per (method, benchmark), every proxy a sweep needs on one arch per benchmark, one supernet
step per one-shot method -- scaled by what is left to do in each stage and divided by the
workers the stage runs on. It costs about a minute on the default profile, and it is an
estimate: it says so, and the run's end prints what each stage really took.
"""

from __future__ import annotations

import time

from harness.core.cellbase import _get_bench
from harness.core.runlog import describe
from harness.run.executors import oneshot_workers


def _search(cells: list, registry, jobs: int, table_jobs: int) -> tuple[float, float]:
    """(ETA of the score tables, built by ``table_jobs`` workers, ETA of the search
    cells)."""
    from harness.run.estimate import _search_lines, _table_lines
    from harness.search.scores import unbuilt

    tables = unbuilt(cells, registry)
    table_s = sum(ln.unit_seconds * ln.units for ln in _table_lines(tables, registry, 2))
    groups: dict[tuple, list] = {}
    for c in cells:
        groups.setdefault((c.method, c.benchmark), []).append(c)
    search_s = 0.0
    for cs in groups.values():
        (line,) = _search_lines(cs[:1], registry, tables)
        search_s += line.unit_seconds * len(cs)
    return table_s / table_jobs, search_s / jobs


def _proxies(cells: list, registry, store_path, jobs: int) -> float:
    """ETA of the proxy sweep: per benchmark, every proxy its first group needs on one arch
    (after a warm-up arch), times the archs left to score on that benchmark."""
    from harness.proxies.scoring import ScoreCache
    from harness.proxies.sweep import Sweep
    from harness.run.estimate import _proxy_lines

    cache = ScoreCache(store_path)
    try:
        seconds = 0.0
        for b in dict.fromkeys(c.benchmark for c in cells if not c.published):
            mine = [c for c in cells if c.benchmark == b]
            left = Sweep(mine, _get_bench, registry, cache).todo()
            if not left:
                continue
            first = next(c for c in mine if not c.published)
            lines = _proxy_lines([c for c in mine if c.group == first.group], registry, 1)
            seconds += lines[0].unit_seconds * left
    finally:
        cache.close()
    return seconds / jobs


def _oneshot(cells: list, registry, jobs: int) -> float:
    from harness.run.estimate import _oneshot_lines

    return sum(ln.unit_seconds * ln.units for ln in _oneshot_lines(cells, registry, 1)) / jobs


def measured_eta(todo: list, registry, store_path, *, jobs: int = 1, proxy_jobs: int = 1,
                 oneshot_jobs: int | None = None) -> dict[str, float]:
    """Estimated wall seconds per stage of running the cells ``todo`` (not yet stored):
    search cells on ``jobs`` workers, score tables and the proxy sweep on ``proxy_jobs``,
    one-shot cells on ``oneshot_jobs`` (default ``jobs``), as the engine runs them."""
    from harness.oneshot.cells import OneShotCell
    from harness.proxies.cells import ProxyCell
    from harness.search.cells import Cell

    out: dict[str, float] = {}
    search = [c for c in todo if isinstance(c, Cell)]
    if search:
        tables, cells = _search(search, registry, jobs, proxy_jobs)
        if tables:
            out["score tables"] = tables
        out["search cells"] = cells
    proxy = [c for c in todo if isinstance(c, ProxyCell)]
    if proxy and any(not c.published for c in proxy):
        out["proxy sweep"] = _proxies(proxy, registry, store_path, proxy_jobs)
    oneshot = [c for c in todo if isinstance(c, OneShotCell)]
    if oneshot:
        out["one-shot cells"] = _oneshot(oneshot, registry,
                                         oneshot_workers(oneshot_jobs, jobs, len(oneshot)))
    return out


def eta_line(todo: list, registry, store_path, *, jobs: int = 1, proxy_jobs: int = 1,
             oneshot_jobs: int | None = None) -> str:
    """One line for the start of a run: the measured ETA per stage and what measuring it
    cost."""
    t0 = time.perf_counter()
    try:
        stages = measured_eta(todo, registry, store_path, jobs=jobs, proxy_jobs=proxy_jobs,
                              oneshot_jobs=oneshot_jobs)
    except Exception as exc:  # noqa: BLE001 - an ETA must never stop the run it precedes
        why = (str(exc).splitlines() or [""])[0]
        return (f"ETA not measured ({type(exc).__name__}: {why}); the run goes on and its "
                "end prints the real times")
    if not stages:
        return "ETA: nothing to run"
    return (f"ETA, timed here on a few units of each stage ({time.perf_counter() - t0:.0f} s): "
            f"{describe(stages)} (an estimate; the end of the run prints the real times)")


__all__ = ["eta_line", "measured_eta"]
