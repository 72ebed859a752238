"""Score tables of our own zero-cost proxies over a whole search space (every arch of a
benchmark's table), for searches that score archs without training them: a proxy-warm-
started search scores a pool of thousands of archs, which a search cell -- torch-free,
milliseconds -- cannot do itself, so the harness scores the whole space once, before the
search cells that need it, and the cells read the table (:mod:`harness.search.scores`).

A table is the proxy's score of every arch under one fixed configuration -- network
initialisation stream ``TABLE_EXPERIMENT_SEED``/``TABLE_SEED``, minibatch of
``TABLE_BATCH`` images where the proxy reads images, on ``device`` -- so it is the same for
every profile and store. It is built by :mod:`harness.run.score_tables` through the proxy
sweep (chunks on any executor, one torch thread per worker) into a score cache under the
cache home, so a killed or time-boxed build resumes; once every arch is scored the table
is written as one ``.npz`` (scores, the median measured seconds per arch and how they were
measured), which cells load through this module. The seconds charged to a search per arch
scored are that measured median: the proxy's cost on the machine that built the table,
recorded with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.core import config
from harness.core.errors import DataError

#: the fixed configuration of every table (see the module docstring)
TABLE_SEED = 0
TABLE_EXPERIMENT_SEED = 0
TABLE_BATCH = 64
TABLE_DEVICE = "cpu"


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
