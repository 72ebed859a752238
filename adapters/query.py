"""Everything a benchmark's table knows about one architecture, in one call.

The equivalent of the NB201 API's ``api.query_index_by_arch(arch)`` followed by
``api.get_more_info(index, dataset, hp=...)`` and ``api.get_cost_info(index, dataset)``, for
every benchmark the harness converts::

    from adapters.query import query
    query("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
                   "nor_conv_3x3~1|nor_conv_1x1~2|", dataset="cifar10")
    # {'benchmark': 'nb201', 'index': 6111, ..., 'datasets': {'cifar10': {'metrics':
    #   {'test_acc': {'value': 94.37..., 'epochs': 200, 'units': 'percent', ...}, ...},
    #   'costs': {'params': 1073466.0, 'flops': ..., 'hw_pixel3_latency': ...}}}}

An architecture is given as its official id string, its index in the table, or its encoding
(comma-separated integers, as ``encoding`` in the answer). Values are the table's own (seed
means where the table has several seeds); the harness reads the file, it never recomputes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.core.errors import ConfigError, InvalidArchError, unknown


def _by_encoding(bench, text: str) -> int:
    try:
        code = tuple(int(t) for t in text.strip("[]() ").replace(" ", "").split(",") if t)
    except ValueError:
        code = ()
    enc = bench.h5.array("archs", "encoding")
    if len(code) != enc.shape[1]:
        raise InvalidArchError(_format_hint(bench, text))
    hits = np.flatnonzero((enc == np.asarray(code, dtype=enc.dtype)).all(axis=1))
    if not len(hits):
        raise InvalidArchError(f"encoding {text!r} is not an architecture of {bench.name}; "
                               f"{_format_hint(bench, None)}")
    return int(hits[0])


def _format_hint(bench, text: str | None) -> str:
    width = bench.h5.array("archs", "encoding").shape[1]
    head = f"{text!r} is not an architecture of {bench.name}: " if text is not None else ""
    return (f"{head}give an official arch string such as {str(bench.archs[0])!r}, an index "
            f"0..{bench.num_archs - 1}, or an encoding of {width} comma-separated integers")


def arch_index(bench, arch: str | int) -> int:
    """The table index of ``arch`` (id string, index or encoding); one-line error if none."""
    if isinstance(arch, (int, np.integer)):
        return bench.index_of(int(arch))
    text = str(arch).strip()
    if text.lstrip("-").isdigit():
        return bench.index_of(int(text))
    try:
        return bench.index_of(text)
    except InvalidArchError:
        if "," in text:
            return _by_encoding(bench, text)
        raise InvalidArchError(_format_hint(bench, text)) from None


def _number(v: Any) -> float | None:
    f = float(v)
    return None if math.isnan(f) else f


def _schedule(attrs: dict) -> int | None:
    """Training epochs of a metric's schedule (None for best-over-epochs tables)."""
    epochs = [int(e) for e in attrs.get("epochs", [])]
    return max(epochs) if epochs and max(epochs) > 0 else None


def query(benchmark: str | Any, arch: str | int, *, dataset: str | None = None,
          metric: str | None = None, epochs: int | None = None) -> dict[str, Any]:
    """One architecture's metrics and costs on ``dataset`` (default: every dataset).

    ``benchmark`` is a name (the cached file is opened, converting on first use) or an open
    :class:`adapters.base.Benchmark`. ``metric`` keeps one metric; ``epochs`` keeps the
    metrics of that training schedule (NB201: 12 or 200). Missing values are ``None``.
    """
    if isinstance(benchmark, str):
        import adapters

        bench = adapters.load_benchmark(benchmark)
    else:
        bench = benchmark
    idx = arch_index(bench, arch)
    datasets = [dataset] if dataset else list(bench.datasets)
    out: dict[str, Any] = {"benchmark": bench.name, "index": idx, "arch": str(bench.archs[idx]),
                           "encoding": [int(x) for x in bench.encode([idx])[0]],
                           "iso_class": int(bench.iso_class[idx]),
                           "content_sha256": bench.content_sha256, "datasets": {}}
    for ds in datasets:
        names = bench.metrics(ds)  # an unknown dataset: one line naming the known ones
        if metric is not None and metric not in names:
            if dataset is not None or len(datasets) == 1:
                raise unknown(f"metric of {bench.name}/{ds}", metric, names)
            continue
        rows: dict[str, Any] = {}
        for m in names if metric is None else [metric]:
            attrs = bench.h5.metric_attrs(ds, m)
            sched = _schedule(attrs)
            if epochs is not None and sched != epochs:
                continue
            rows[m] = {"value": _number(bench.query(np.array([idx], dtype=np.int64), m, ds)[0]),
                       "epochs": sched, "units": str(attrs.get("units", "")),
                       "seeds": len(attrs.get("seeds", [])), "source": str(attrs.get("source",
                                                                                    ""))}
        if epochs is not None and not rows:
            have = sorted({s for m in names
                           if (s := _schedule(bench.h5.metric_attrs(ds, m))) is not None})
            raise ConfigError(f"--epochs {epochs}: {bench.name}/{ds} has schedules "
                              f"{have or 'none (best over epochs)'}; choose one of them")
        costs = {c: _number(bench.cost([idx], c, ds)[0]) for c in bench.h5.costs(ds)}
        out["datasets"][ds] = {"metrics": rows, "costs": costs,
                               "note": bench.protocol(ds)["note"]}
    if metric is not None and not any(d["metrics"] for d in out["datasets"].values()):
        raise unknown(f"metric of {bench.name}", metric,
                      sorted({m for ds in datasets for m in bench.metrics(ds)}))
    return out
