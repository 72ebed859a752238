"""Building our proxies' score tables of a whole search space (what they are and how
cells read them: :mod:`harness.search.proxy_tables`): the proxy sweep over every arch of
the space under the table's fixed configuration, into a score cache under the cache home
(so a killed or time-boxed build resumes), then one ``.npz`` once every arch is scored."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.search import proxy_tables as pt

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


def table_cell(bench, dataset: str, proxy: str, device: str = pt.TABLE_DEVICE):
    """The sweep group of a table: every arch of the space, the fixed configuration."""
    from harness.proxies.cells import ProxyCell

    return ProxyCell(proxy, bench.name, dataset, pt.TABLE_SEED, bench.num_archs,
                     pt.TABLE_BATCH, device, pt.TABLE_EXPERIMENT_SEED)


def build(benchmark: str, dataset: str, proxy: str, registry, *, jobs: int = 1,
          executor=None, bar=None, deadline: float | None = None,
          device: str = pt.TABLE_DEVICE) -> BuildReport:
    """Score every arch not yet in the table's score cache (resumable) and write the table
    once all are scored; returns how far it got."""
    from harness.core.cellbase import _get_bench
    from harness.proxies.scoring import ScoreCache
    from harness.run.sweeping import sweep

    bench = _get_bench(benchmark)
    cell = table_cell(bench, dataset, proxy, device)
    pt.folder().mkdir(parents=True, exist_ok=True)
    cache = ScoreCache(pt.folder() / "scores.sqlite")
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
            "experiment_seed": pt.TABLE_EXPERIMENT_SEED, "seed": pt.TABLE_SEED,
            "batch_size": pt.TABLE_BATCH, "device": device,
            "seconds_per_arch": float(np.median(measured)) if len(measured) else 0.0,
            "seconds_total": float(secs.sum()),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "scores_sha256": hashlib.sha256(scores.tobytes()).hexdigest()}
    path = pt.table_path(bench, dataset, proxy, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, scores=scores, seconds=secs, meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)
    return path
