"""Score tables for training-free search: one proxy score per arch of the whole space,
which a search cell's oracle answers ``score(arch)`` from (charged per arch scored).

A table is named in the cell's budget (``scores``) and recorded in its key, so rows from
different tables never mix. Tables:

* ``naswot-v1``: the NASWOT authors' published score of every NB201 arch on CIFAR-10
  (``nb201-naswot/arch_score_acc.pd`` in the data root, BayesWatch/nas-without-training
  commit a1aa24c: the arXiv-v1 score, a log-Jacobian-covariance measure; the ICML version's
  score is our ``nwot`` proxy); the per-arch cost charged is the paper's N=100 search time
  over 100 archs (17.41 s / 100, on their GPU).
* ``params``: the table's parameter count (the ``params`` zero-cost proxy), on every
  benchmark whose table has it; cost 0.
* any other registered zero-cost proxy by its name (``synflow``, ``nwot``, ...): our own
  score of every arch, built once by the harness before the cells that read it
  (:mod:`harness.search.proxy_tables`); cost: its measured median seconds per arch.

A table that is not complete (a score for every arch) is refused: a search that draws
archs uniformly must be able to score any of them. The one exception is the rule of our
proxies (``undefined_on_disconnected``): an arch whose output does not depend on its input
(341 NB201 cells, which the NASWOT authors' table leaves NaN) scores -inf, ranked last.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.core import config
from harness.core.errors import ConfigError, DataError, unknown

#: name -> what it is (shown in errors and written into rows)
TABLES = {
    "naswot-v1": "NASWOT authors' published arXiv-v1 score (CIFAR-10 minibatch), all 15,625 "
                 "NB201 archs",
    "params": "parameter count from the benchmark's table",
}
NASWOT_V1 = "nb201-naswot/arch_score_acc.pd"
#: seconds per arch charged for a NASWOT-v1 score: the paper's N=100 search, 17.41 s
NASWOT_V1_SECONDS = 17.41 / 100

_CACHE: dict[tuple, tuple[np.ndarray, float]] = {}


def known(name: str, registry=None) -> bool:
    """Whether ``name`` names a score table: a published one or a registered proxy."""
    from harness.core.registry import default_registry
    from harness.search.proxy_tables import is_proxy

    return name in TABLES or is_proxy(name, registry or default_registry())


def choices(registry=None) -> list[str]:
    """Every score-table name: the published tables and the registered single proxies."""
    from harness.core.registry import default_registry
    from harness.search.proxy_tables import is_proxy

    reg = registry or default_registry()
    return sorted({*TABLES, *(n for n in reg.names() if is_proxy(n, reg))})


def score_table(bench, dataset: str, name: str) -> tuple[np.ndarray, float]:
    """(score per arch, seconds charged per arch scored) of table ``name``; ConfigError
    when the table does not exist for this benchmark/dataset, DataError when it is one of
    our proxy tables not built yet."""
    key = (bench.name, bench.content_sha256, dataset, name)
    if key not in _CACHE:  # the name is checked once, with the first load
        if not known(name):
            raise unknown("score table", name, choices())
        _CACHE[key] = _load(bench, dataset, name)
    return _CACHE[key]


def _load(bench, dataset: str, name: str) -> tuple[np.ndarray, float]:
    if name not in TABLES:  # our proxy, scored on the whole space by the harness
        from harness.core.registry import default_registry
        from harness.search import proxy_tables

        version = default_registry().get(name).version
        raw, seconds, _meta = proxy_tables.load(bench, dataset, name, version)
        return _complete(raw, name, bench, dataset), seconds
    if name == "params":
        costs = bench.h5.costs(dataset) if dataset in bench.datasets else []
        if "params" not in costs:
            raise ConfigError(f"score table 'params': {bench.name}/{dataset} has no params "
                              "column; pick a table the benchmark has")
        return _complete(bench.cost(np.arange(bench.num_archs), "params", dataset), name,
                         bench, dataset), 0.0
    # naswot-v1
    if bench.name != "nb201" or dataset != "cifar10":
        raise ConfigError(f"score table 'naswot-v1' exists for nb201/cifar10 only (the "
                          f"NASWOT authors published CIFAR-10 scores), not {bench.name}/"
                          f"{dataset}; remove that dataset from the training-free section")
    root = config.data_root()
    if root is None:
        raise ConfigError("score table 'naswot-v1' is read from the data root, which is not "
                          "set; set NAS_HARNESS_DATA to the shared data folder")
    from adapters.nb201 import naswot_v1_scores

    raw = naswot_v1_scores(Path(root), [str(a) for a in bench.archs])
    return _complete(raw, name, bench, dataset), NASWOT_V1_SECONDS


def _complete(scores: np.ndarray, name: str, bench, dataset: str) -> np.ndarray:
    if len(scores) == bench.num_archs and np.isnan(scores).any():
        dead = ~bench.output_depends_on_input(np.arange(bench.num_archs))
        scores = np.where(np.isnan(scores) & dead, -np.inf, scores)
    if len(scores) != bench.num_archs or np.isnan(scores).any() or np.isposinf(scores).any():
        raise DataError(f"score table {name!r} of {bench.name}/{dataset} is not complete "
                        f"({int(np.sum(~np.isnan(scores)))} scores of "
                        f"{bench.num_archs}); a training-free search needs every arch")
    scores = scores.copy()
    scores.setflags(write=False)
    return scores


def unbuilt(cells, registry) -> list[tuple[str, str, str]]:
    """(benchmark, dataset, proxy) of every proxy table the search cells read that is not
    built yet, in first-seen order."""
    from harness.core.cellbase import _get_bench
    from harness.search.proxy_tables import is_proxy, table_path

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
