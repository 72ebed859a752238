"""What a profile costs before it runs: its cells per kind, and device-hours estimated from
seconds measured here and now on the chosen device -- one search cell per (method,
benchmark, dataset) at the profile's budget, a proxy score table not built yet from its
proxy on a few archs, every proxy on a few archs of each sample, and a
few supernet steps of every one-shot method at the profile's configuration -- scaled by the
profile's seeds, archs, steps per epoch and epochs. It is an estimate and says so: it leaves
out start-up, data conversion, the supernet-ranking evaluation and the proxy cells'
correlation work (seconds), and on a cluster, waiting for a free worker.

``python -m harness estimate --profile paper --device cuda`` on one GPU node gives the GPU-hours
of the paper profile; on a CPU it gives the CPU-core-hours of one-thread cells.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness.core.cellbase import _get_bench
from harness.search.scores import unbuilt


@dataclass
class Line:
    """One row of the estimate: a kind of cell on one (benchmark, dataset) or method."""

    kind: str
    what: str
    cells: int
    measured: str  # what was timed, in words
    unit_seconds: float | None  # seconds of one measured unit (None: not measured)
    units: float  # units in the profile (cells, arch x seeds, steps)
    notes: list[str] = field(default_factory=list)

    @property
    def hours(self) -> float | None:
        return None if self.unit_seconds is None else self.unit_seconds * self.units / 3600


def _search_lines(cells: list, registry, unbuilt_tables: list[tuple]) -> list[Line]:
    from harness.search.cells import run_search_cell

    groups: dict[tuple, list] = {}
    for c in cells:
        groups.setdefault((c.method, c.benchmark, c.dataset), []).append(c)
    todo = set(unbuilt_tables)
    out = []
    for (m, b, d), cs in groups.items():
        cell, notes = cs[0], []
        if (b, d, cell.budget.scores) in todo:  # the same array read, from a built table
            notes.append(f"timed with the params table for the {cell.budget.scores} table, "
                         "not built yet")
            cell = replace(cell, budget=replace(cell.budget, scores="params"))
        t0 = time.perf_counter()
        run_search_cell(registry.get(m), cell, _get_bench(b))
        out.append(Line("search", f"{m} on {b}/{d}", len(cs), "one cell at the budget",
                        time.perf_counter() - t0, len(cs), notes))
    return out


def _table_lines(tables: list[tuple], registry, archs: int) -> list[Line]:
    """Proxy score tables (benchmark, dataset, proxy) the search cells read that are not
    built yet: the proxy on ``archs`` archs spread over the space, scaled to every arch."""
    from harness.proxies.cells import _scorer
    from harness.run import score_tables

    out = []
    for b, d, proxy in tables:
        bench = _get_bench(b)
        scorer = _scorer(registry, proxy, bench, score_tables.table_cell(bench, d, proxy),
                         None)
        ids = np.linspace(0, bench.num_archs - 1, archs + 1).astype(int)
        scorer.score(int(ids[-1]))  # warm-up: the first network build
        t0 = time.perf_counter()
        for a in ids[:-1]:
            scorer.score(int(a))
        per = (time.perf_counter() - t0) / archs
        out.append(Line("score table", f"{proxy} on every arch of {b}/{d}", 1,
                        f"{proxy} on {archs} archs", per, bench.num_archs,
                        ["built once by run, before the search cells that read it"]))
    return out


def _proxy_lines(cells: list, registry, archs: int) -> list[Line]:
    from harness.proxies.cells import _scorer, needed_proxies, sample_order
    from harness.proxies.engine import score_arch

    groups: dict[tuple, dict[str, Any]] = {}
    for c in cells:
        if c.published:
            continue
        g = groups.setdefault(c.group, {"cell": c, "names": [], "cells": 0})
        g["cells"] += 1
        for n in needed_proxies(registry.get(c.method), c.method):
            if n not in g["names"]:
                g["names"].append(n)
    out = []
    for g in groups.values():
        c = g["cell"]
        bench = _get_bench(c.benchmark)
        scorers = [_scorer(registry, n, bench, c, None) for n in g["names"]]
        order = sample_order(bench, c)
        score_arch(scorers, int(order[-1]))  # warm-up: minibatch, first network build
        k = max(1, min(archs, len(order) - 1))
        t0 = time.perf_counter()
        for a in order[:k]:
            score_arch(scorers, int(a))
        per = (time.perf_counter() - t0) / k
        out.append(Line("proxy", f"{len(g['names'])} proxies on {c.benchmark}/{c.dataset}",
                        g["cells"], f"every proxy on {k} archs", per, len(order),
                        [f"{len(order)} archs per sample"]))
    return out


def _by_method_config(cells: list) -> dict[tuple[str, str], list]:
    """One-shot cells grouped by (method, configuration label): a method that a profile
    also runs at another configuration (``oneshot.also``) is timed at each one."""
    out: dict[tuple[str, str], list] = {}
    for c in cells:
        out.setdefault((c.method, c.cfg.label), []).append(c)
    return out


def _oneshot_lines(cells: list, registry, steps: int) -> list[Line]:
    """Supernet steps of each method on the first dataset it runs on (its step time on the
    others differs by their image size and classes: stated in the notes)."""
    from adapters.nb201_search_data import unavailable
    from harness.core.errors import ConfigError
    from harness.oneshot.runner import precision

    out = []
    for (m, _label), cs in _by_method_config(cells).items():
        c = next((x for x in cs if not unavailable(x.dataset)), None)
        if c is None:
            raise ConfigError(f"cannot time {m}: none of its datasets has images in the data "
                              f"root ({unavailable(cs[0].dataset)})")
        with precision(c):
            per, ctx = _time_steps(registry.get(m), c, steps)
        total = sum(x.epochs * ctx.steps_per_epoch for x in cs)
        datasets = sorted({x.dataset for x in cs})
        notes = [f"{ctx.steps_per_epoch} steps/epoch x {c.epochs} epochs"]
        if len(datasets) > 1:
            notes.append(f"step time and steps/epoch of {c.dataset} used for "
                         f"{', '.join(datasets)}")
        out.append(Line("oneshot", f"{m} ({c.cfg.label} configuration)", len(cs),
                        f"median of {steps} supernet steps", per, total, notes))
    return out


def _time_steps(cls, c, steps: int):
    """(median seconds of ``steps`` supernet steps after one warm-up, the context) of cell
    ``c``, as the first epoch of a run."""
    from harness.core.seeds import generator
    from harness.oneshot.runner import batch_maker, begin_epoch, prepare

    method, ctx, pools, hook = prepare(cls, c)
    begin_epoch(ctx, c, hook, 0)
    data = generator(c.stream("estimate"))
    perm = data.permutation(len(pools.y_train))
    B, make = c.cfg.batch_size, batch_maker(pools, c)
    times = []
    for s in range(steps + 1):  # the first step warms up (allocations, autotuning)
        ctx.step = s % ctx.steps_per_epoch
        ctx._set_lr()
        batches = make(perm, ctx.step, B, data)
        t0 = time.perf_counter()
        hook("_step", ctx, *batches)
        if c.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return float(np.median(times[1:])), ctx


def estimate(cells: list, registry, *, archs: int = 3, steps: int = 2,
             progress=None) -> list[Line]:
    """Measure and scale (see the module docstring); one :class:`Line` per group."""
    from harness.oneshot.cells import OneShotCell
    from harness.proxies.cells import ProxyCell
    from harness.search.cells import Cell

    say = progress or (lambda _msg: None)
    lines: list[Line] = []
    search = [c for c in cells if isinstance(c, Cell)]
    if search:
        say(f"timing {len({(c.method, c.benchmark, c.dataset) for c in search})} search cells")
        tables = unbuilt(search, registry)  # read once, by both kinds of line
        lines += _table_lines(tables, registry, archs) + _search_lines(search, registry,
                                                                       tables)
    proxy = [c for c in cells if isinstance(c, ProxyCell)]
    if proxy:
        say(f"timing every proxy on {archs} archs per sample")
        lines += _proxy_lines(proxy, registry, archs)
    oneshot = [c for c in cells if isinstance(c, OneShotCell)]
    if oneshot:
        say(f"timing {steps} supernet steps of {len({c.method for c in oneshot})} methods")
        lines += _oneshot_lines(oneshot, registry, steps)
    return lines


def config_key(cfg) -> dict[str, Any]:
    """What a measured supernet step depends on (how a gpu-check report's step is matched
    to a profile's cells)."""
    return {"C": cfg.C, "N": cfg.N, "batch_size": cfg.batch_size, "precision": cfg.precision}


def from_report(cells: list, registry, report: dict | None, where: str) -> list[Line]:
    """One-shot lines from a ``gpu-check`` report (:mod:`harness.run.gpu_check`): a
    method's measured step at the same C, N, batch and precision, scaled to the profile's
    steps; "not measured" where the report has none."""
    out = []
    steps = (report or {}).get("steps", {})
    for (m, _label), cs in _by_method_config(cells).items():
        c, got = cs[0], steps.get(m)
        label = f"{m} ({c.cfg.label} configuration)"
        want = config_key(c.cfg)
        if got is None or any(got.get(k) != v for k, v in want.items()) or \
                not str((report or {}).get("device", "")).startswith("cuda"):
            why = ("no GPU report" if report is None else
                   f"{where} has no GPU step of {m} at {want}")
            out.append(Line("oneshot", label, len(cs), "not measured", None, 0,
                            [why + "; run 'python -m harness gpu-check' on a GPU"]))
            continue
        total = sum(x.epochs * got["steps_per_epoch"] for x in cs)
        out.append(Line("oneshot", label, len(cs),
                        f"gpu-check on {report['device_name']} ({report['started'][:10]})",
                        got["seconds_per_step"], total,
                        [f"{got['steps_per_epoch']} steps/epoch x {c.epochs} epochs",
                         f"read from {where}"]))
    return out


def summary_table(lines: list[Line], device: str
                  ) -> tuple[list[dict], dict[str, float | None]]:
    """Rows for a table, and hours per kind (plus ``total``; None where a line of the kind
    was not measured: its hours are unknown, not zero)."""
    unit = "GPU-h" if device.startswith("cuda") else "CPU-core-h"
    rows = [{"kind": ln.kind, "what": ln.what, "cells": ln.cells, "measured": ln.measured,
             "s/unit": None if ln.unit_seconds is None else round(ln.unit_seconds, 4),
             "units": int(ln.units),
             f"estimated {unit}": "not measured" if ln.hours is None else round(ln.hours, 3),
             "notes": "; ".join(ln.notes)}
            for ln in lines]
    per_kind: dict[str, float | None] = {}
    for ln in lines:
        have = per_kind.get(ln.kind, 0.0)
        per_kind[ln.kind] = None if have is None or ln.hours is None else have + ln.hours
    vals = list(per_kind.values())
    per_kind["total"] = None if None in vals else sum(v for v in vals if v is not None)
    return rows, per_kind
