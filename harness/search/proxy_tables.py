"""Score tables of our own zero-cost proxies over a whole search space (every arch of a
benchmark's table), for searches that score archs without training them: a proxy-warm-
started search scores a pool of thousands of archs, which a search cell -- torch-free,
milliseconds -- cannot do itself, so the harness scores the whole space once, before the
search cells that need it, and the cells read the table (:mod:`harness.search.scores`).

A table is the proxy's score of every arch under one fixed configuration -- network
initialisation stream ``TABLE_EXPERIMENT_SEED``/``TABLE_SEED``, minibatch of
``TABLE_BATCH`` images where the proxy reads images, on ``device`` -- so it is the same for
every profile and store. It is built through the proxy sweep (:mod:`harness.proxies.sweep`:
chunks on any executor, one torch thread per worker) into a score cache under the cache
home, so a killed or time-boxed build resumes; once every arch is scored the table is
written as one ``.npz`` (scores, the median measured seconds per arch and how they were
measured), which cells load. The seconds charged to a search per arch scored are that
measured median: the proxy's cost on the machine that built the table, recorded with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core import config
from harness.core.errors import DataError

#: the fixed configuration of every table (see the module docstring)
TABLE_SEED = 0
TABLE_EXPERIMENT_SEED = 0
TABLE_BATCH = 64
TABLE_DEVICE = "cpu"
#: archs per sweep chunk of a table build (a whole space: fewer, larger chunks)
TABLE_CHUNK = 25


@dataclass
class BuildReport:
    """How far a table build got."""

    benchmark: str
    dataset: str
    proxy: str
    scored: int
    total: int
    path: Path | None  # the written table, None while incomplete
    failed: str | None = None


def folder() -> Path:
    return config.cache_home() / "score-tables"


def table_path(bench, dataset: str, proxy: str, version: str) -> Path:
    return (folder() / f"{bench.name}-{bench.content_sha256[:16]}" / dataset
            / f"{proxy}-v{version}.npz")


def is_proxy(name: str, registry) -> bool:
    """True when ``name`` is a registered single proxy (not an ensemble)."""
    from harness.api import Proxy, ProxyEnsemble

    try:
        cls = registry.get(name)
    except Exception:  # noqa: BLE001 -- unknown names are simply not proxies
        return False
    return isinstance(cls, type) and issubclass(cls, Proxy) and not issubclass(
        cls, ProxyEnsemble)


def table_cell(bench, dataset: str, proxy: str, device: str = TABLE_DEVICE):
    """The sweep group of a table: every arch of the space, the fixed configuration."""
    from harness.proxies.cells import ProxyCell

    return ProxyCell(proxy, bench.name, dataset, TABLE_SEED, bench.num_archs, TABLE_BATCH,
                     device, TABLE_EXPERIMENT_SEED)


def load(bench, dataset: str, proxy: str, version: str) -> tuple[np.ndarray, float, dict]:
    """(score per arch, seconds per arch, metadata) of a built table; DataError, saying
    how to build it, when it is not built yet."""
    path = table_path(bench, dataset, proxy, version)
    if not path.exists():
        raise DataError(f"score table {proxy!r} of {bench.name}/{dataset} is not built yet "
                        f"(no {path}); `python -m harness run` builds it before the search "
                        "cells that need it (the whole space scored once, resumable)")
    with np.load(path, allow_pickle=False) as z:
        scores = z["scores"].astype(np.float64)
        meta = json.loads(str(z["meta"]))
    if len(scores) != bench.num_archs:
        raise DataError(f"score table {path} has {len(scores)} scores, the benchmark "
                        f"{bench.num_archs} archs; delete the file and run again")
    return scores, float(meta["seconds_per_arch"]), meta


def needed(cells, registry) -> list[tuple[str, str, str]]:
    """(benchmark, dataset, proxy) of every proxy table the search cells read that is not
    built yet, in first-seen order."""
    from harness.core.cellbase import _get_bench
    from harness.search.scores import TABLES

    out: list[tuple[str, str, str]] = []
    for c in cells:
        name = getattr(getattr(c, "budget", None), "scores", None)
        if name is None or name in TABLES or not is_proxy(name, registry):
            continue  # no table, or a published one (read, never built)
        key = (c.benchmark, c.dataset, name)
        if key in out:
            continue
        bench = _get_bench(c.benchmark)
        if not table_path(bench, c.dataset, name, registry.get(name).version).exists():
            out.append(key)
    return out


def build(benchmark: str, dataset: str, proxy: str, registry, *, jobs: int = 1,
          executor=None, bar=None, deadline: float | None = None,
          device: str = TABLE_DEVICE) -> BuildReport:
    """Score every arch not yet in the table's score cache (resumable) and write the table
    once all are scored; returns how far it got."""
    from harness.core.cellbase import _get_bench
    from harness.proxies.scoring import ScoreCache
    from harness.run.engine import sweep

    bench = _get_bench(benchmark)
    cell = table_cell(bench, dataset, proxy, device)
    folder().mkdir(parents=True, exist_ok=True)
    cache = ScoreCache(folder() / "scores.sqlite")
    try:
        order = np.arange(bench.num_archs)
        report = sweep([cell], _get_bench, registry, cache, deadline=deadline, bar=bar,
                       jobs=jobs, executor=executor, orders={cell.group: order},
                       chunk=TABLE_CHUNK)
        why = report.failed.get(cell.group) or next(iter(
            (report.failed_proxies or {}).values()), None)
        from harness.proxies.cells import _scorer

        have = _scorer(registry, proxy, bench, cell, cache).have
    finally:
        cache.close()
    rep = BuildReport(benchmark, dataset, proxy, len(have), bench.num_archs, None, why)
    if len(have) == bench.num_archs and why is None:
        rep.path = _write(bench, dataset, proxy, registry.get(proxy).version, have, device)
    return rep


def _write(bench, dataset: str, proxy: str, version: str, have: dict, device: str) -> Path:
    scores = np.array([have[a][0] for a in range(bench.num_archs)], dtype=np.float64)
    secs = np.array([have[a][1] for a in range(bench.num_archs)], dtype=np.float64)
    measured = secs[np.isfinite(scores) & (secs > 0)]
    meta = {"proxy": proxy, "proxy_version": version, "benchmark": bench.name,
            "data_sha256": bench.content_sha256, "dataset": dataset,
            "experiment_seed": TABLE_EXPERIMENT_SEED, "seed": TABLE_SEED,
            "batch_size": TABLE_BATCH, "device": device,
            "seconds_per_arch": float(np.median(measured)) if len(measured) else 0.0,
            "seconds_total": float(secs.sum()),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "scores_sha256": hashlib.sha256(scores.tobytes()).hexdigest()}
    path = table_path(bench, dataset, proxy, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, scores=scores, seconds=secs, meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)
    return path
