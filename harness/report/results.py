"""``results.json``: the leaderboard as data another program can consume.

Numbers are numbers (means, standard deviations, seed counts, 95% interval bounds, rank
correlations), every value names its metric and units, provenance says which package,
data and profile produced it, and nothing holds a local path or a timing: wall-clock
seconds, the generation time and the commits of the rows live in ``timings/timings.json``
(:mod:`harness.report.timings`), so this file regenerates byte-identically. The formatted tables
of the site stay under ``display``. The layout is fixed by ``results.schema.json`` beside
this module; :func:`validate` checks a document against it (the subset of JSON Schema the
file uses, so no validator package is needed).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.report.base import mean_ci

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
#: 2: timings moved to timings/timings.json; 3: training_free, hardware_search; 4: warm_start
SCHEMA_VERSION = 4


def metric_units(metric: str) -> str:
    """Units of a table metric from its name (``cifar10/test_acc`` -> ``percent``)."""
    m = metric.rsplit("/", 1)[-1]
    if re.search(r"(acc|top1|top5|miou|mIoU)(_|$)", m):
        return "percent"
    if "ssim" in m:
        return "SSIM (0-1)"
    if "loss" in m:
        return "loss"
    return ""


def _ci(mean: float, half: float) -> list[float]:
    return [mean - half, mean + half]


def _finite(v: Any) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None


def search_records(agg: list[dict]) -> list[dict[str, Any]]:
    """The aggregated search rows, with metric names, units and interval bounds."""
    return [{"benchmark": a["benchmark"], "dataset": a["dataset"], "method": a["method"],
             "method_version": a["method_version"], "budget": a["budget"],
             "metric": a["report_on"], "search_metric": a["search_on"],
             "units": metric_units(a["report_on"]), "n": a["n_seeds"],
             "mean": a["test_mean"], "std": a["test_std"],
             "ci95": _ci(a["test_mean"], a["test_ci95"]), "search_mean": a["search_mean"],
             "queries_mean": _finite(a["queries_mean"]), "note": a["note"],
             "data_sha256": a["data_sha256"]} for a in agg]


def oneshot_records(rows: list[dict]) -> list[dict[str, Any]]:
    """One-shot cells per (benchmark, dataset, configuration, method): the derived cell's
    reported metric over seeds, its search metric, and how many cells finished."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "oneshot":
            groups[(r["benchmark"], r["dataset"], r["budget"], r["method"])].append(r)
    out = []
    for (b, d, conf, m), rs in sorted(groups.items()):
        test = np.array([r["test_value"] for r in rs], dtype=float)
        ok = test[np.isfinite(test)]
        mean, std, half = mean_ci(ok) if len(ok) else (None, None, 0.0)
        out.append({"benchmark": b, "dataset": d, "method": m, "configuration": conf,
                    "metric": rs[0]["report_on"], "search_metric": rs[0]["search_on"],
                    "units": metric_units(rs[0]["report_on"]), "n": len(ok),
                    "mean": mean, "std": std,
                    "ci95": _ci(mean, half) if mean is not None else None,
                    "search_mean": _finite(np.nanmean([r["search_value"] for r in rs])
                                           if any(r["search_value"] is not None for r in rs)
                                           else None),
                    "complete": sum(1 for r in rs if r["result"].get("complete") is not False),
                    "note": rs[0]["note"]})
    return out


def provenance(rows: list[dict], profile: str | None) -> dict[str, Any]:
    data: dict[str, str] = {}
    for r in rows:
        data.setdefault(r["benchmark"], r["data_sha256"])
    return {"profile": profile, "rows_used": len(rows),
            "package_version": rows[0]["package_version"],
            "timings": "timings/timings.json",
            "data_sha256": dict(sorted(data.items())),
            "torch": sorted({r["torch"] for r in rows if r.get("torch")}),
            "devices": sorted({r["device"] for r in rows if r.get("device")})}


def document(rows: list[dict], agg: list[dict], proxy_records: list[dict],
             figures: list[dict], display: dict, profile: str | None,
             targets: list[dict] | None = None,
             hardware: list[dict] | None = None,
             training_free: list[dict] | None = None,
             hardware_search: list[dict] | None = None,
             warm_start: list[dict] | None = None) -> dict[str, Any]:
    """The whole results.json document (validated against the schema before it is written)."""
    doc = {"schema_version": SCHEMA_VERSION,
           "provenance": provenance(rows, profile),
           "search": search_records(agg), "proxies": proxy_records,
           "oneshot": oneshot_records(rows), "targets": targets or [],
           "hardware": hardware or [], "training_free": training_free or [],
           "hardware_search": hardware_search or [], "warm_start": warm_start or [],
           "figures": figures,
           "display": display}
    validate(doc)
    return doc


# ---- a validator for the subset of JSON Schema the schema file uses -----------------------
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is(value: Any, t: str) -> bool:
    if t in ("number", "integer"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok and (t == "number" or float(value).is_integer())
    return isinstance(value, _TYPES[t])


def _check(value: Any, schema: dict, root: dict, where: str) -> None:
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_is(value, t) for t in types):
            raise ValueError(f"{where}: {type(value).__name__} where {'/'.join(types)} "
                             "belongs")
    if "enum" in schema and value not in schema["enum"]:
        raise ValueError(f"{where}: {value!r} is not one of {schema['enum']}")
    pattern = schema.get("pattern")
    if isinstance(value, str) and pattern and not re.search(pattern, value):
        raise ValueError(f"{where}: {value[:80]!r} does not match /{pattern}/ (e.g. it holds "
                         "a local path)")
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                raise ValueError(f"{where}: missing {k!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                _check(v, props[k], root, f"{where}.{k}")
            elif extra is False:
                raise ValueError(f"{where}: unexpected key {k!r}")
            elif isinstance(extra, dict):
                _check(v, extra, root, f"{where}.{k}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise ValueError(f"{where}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise ValueError(f"{where}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, v in enumerate(value):
                _check(v, schema["items"], root, f"{where}[{i}]")


def validate(doc: Any, schema: dict | None = None) -> None:
    """Raise ValueError naming the first place ``doc`` breaks the results schema."""
    schema = schema or json.loads(SCHEMA_PATH.read_text())
    _check(doc, schema, schema, "results")
