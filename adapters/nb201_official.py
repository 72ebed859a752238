"""NAS-Bench-201 official releases (NAS-Bench-201-v1_1-096897.pth, NATS-tss-v1_0-3ffb9
pickles or their ``-simple`` folder) converted into layout v1, read through the restricted
unpickler; the converted file matches the one built from the shared tables (tested)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from adapters.nb201 import CITE, CONVERTER_VERSION, NAME, PROTOCOL, TASKS
from adapters.nb201_space import DATASET_SHAPES, analytic_costs, iso_classes, parse_arch
from harness.core.errors import DataError
from harness.data import safe_pickle
from harness.data.h5layout import MetricArray, source_entry, write_benchmark

_EVAL_MAP = {
    "cifar10-valid": {"x-valid": "valid", "ori-test": "test"},
    "cifar10": {"ori-test": "test"},
    "cifar100": {"x-valid": "valid", "x-test": "test"},
    "ImageNet16-120": {"x-valid": "valid", "x-test": "test"},
}
_HP_SUFFIX = {"200": "", "full": "", "12": "_hp12", "less": "_hp12"}


def detect_official(path: Path) -> str:
    """Which official NB201/NATS release ``path`` is: 'nats-dir', 'nats-pbz2' or 'nb201-pth'."""
    if path.is_dir() and (path / "meta.pickle.pbz2").exists():
        return "nats-dir"
    if path.is_file() and path.name.endswith(".pickle.pbz2"):
        return "nats-pbz2"
    if path.is_file() and path.suffix == ".pth":
        return "nb201-pth"
    raise DataError(f"{path}: not an NB201/NATS release (expected NATS-tss-v1_0-3ffb9-simple/, "
                    "NATS-tss-v1_0-3ffb9.pickle.pbz2 or NAS-Bench-201-v1_1-096897.pth)")


def _numpy_scalar():
    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar
    return scalar


def _load_pth(path: Path) -> Any:
    import torch

    # weights_only: torch's restricted unpickler, widened only by the plain types the
    # release holds (sets of indexes, numpy float64 latencies)
    allowed = [set, np.dtype, type(np.dtype(np.float64)), np.float64, _numpy_scalar()]
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds on corrupt or unexpected files
        raise DataError(f"{path}: cannot read as the NB201 .pth release ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:100]}); it is truncated or not the "
                        "expected file") from None


def _iter_official(path: Path, kind: str):
    """Yield (meta_archs, iterator of (index, {hp: archresult_state}))."""
    if kind == "nats-dir":
        meta = safe_pickle.load_path(path / "meta.pickle.pbz2")
        archs = list(meta["meta_archs"])

        def gen():
            for i in range(len(archs)):
                f = path / f"{i:06d}.pickle.pbz2"
                if not f.exists():
                    f = path / f"{i}.pickle.pbz2"
                if f.exists():
                    yield i, safe_pickle.load_path(f)
        return archs, gen()
    data = safe_pickle.load_path(path) if kind == "nats-pbz2" else _load_pth(path)
    if not isinstance(data, dict) or "meta_archs" not in data or "arch2infos" not in data:
        raise DataError(f"{path}: missing 'meta_archs'/'arch2infos'; not an NB201/NATS release")
    archs = list(data["meta_archs"])
    return archs, ((int(i), v) for i, v in sorted((data["arch2infos"] or {}).items()))


def _dict(obj: Any, what: str) -> dict:
    if not isinstance(obj, dict):
        raise TypeError(f"{what} is a {type(obj).__name__}, not a dict")
    return obj


def _read_arch(idx: int, hps: dict, archs: list, curves: dict, cost_vals: dict) -> None:
    """Add one arch's records (every schedule, dataset and seed) to ``curves`` and
    ``cost_vals``; absent seeds, schedules and epochs stay NaN (masked), a record of the
    wrong shape raises."""
    for hp, state in hps.items():
        suffix = _HP_SUFFIX.get(str(hp))
        if suffix is None:
            continue
        state = _dict(state, f"schedule {hp!r}")
        if state.get("arch_str") not in (None, archs[idx]):
            raise ValueError(f"its arch_str {state.get('arch_str')!r} is not "
                             f"{archs[idx]!r} of meta_archs")
        for (ds, seed), r in _dict(state["all_results"], "all_results").items():
            if ds not in _EVAL_MAP:
                continue
            seed = int(seed)
            r = _dict(r, f"the {ds} seed {seed} result")
            epochs = int(r["epochs"])
            acc, loss = _dict(r["eval_acc1es"], "eval_acc1es"), _dict(r["eval_losses"],
                                                                     "eval_losses")
            curves[(ds, "train_acc" + suffix)][(idx, seed)] = [
                float(_dict(r["train_acc1es"], "train_acc1es").get(e, np.nan))
                for e in range(epochs)]
            curves[(ds, "train_loss" + suffix)][(idx, seed)] = [
                float(_dict(r["train_losses"], "train_losses").get(e, np.nan))
                for e in range(epochs)]
            for ev, ours in _EVAL_MAP[ds].items():
                if f"{ev}@{epochs - 1}" not in acc:
                    continue
                curves[(ds, f"{ours}_acc" + suffix)][(idx, seed)] = [
                    float(acc.get(f"{ev}@{e}", np.nan)) for e in range(epochs)]
                curves[(ds, f"{ours}_loss" + suffix)][(idx, seed)] = [
                    float(loss.get(f"{ev}@{e}", np.nan)) for e in range(epochs)]
            times = _dict(r.get("train_times") or {}, "train_times")
            if times:
                cost_vals[(ds, "train_seconds" + suffix)][idx].append(
                    float(sum(times.get(e, 0.0) for e in range(epochs))))
            if suffix == "":
                cost_vals[(ds, "params_table")][idx].append(float(r["params"]) * 1e6)
                cost_vals[(ds, "flops_table")][idx].append(float(r["flop"]))
                lat = r.get("latency")
                lat = [float(x) for x in (lat or []) if float(x) > 0]
                if lat:
                    cost_vals[(ds, "latency")][idx].append(float(np.mean(lat)))


def convert_official(path: Path, out: Path, progress: Callable[[str], None] | None = None,
                     ) -> str:
    """Convert an official NB201 (.pth) or NATS-Bench topology release into layout v1.

    Keeps every seed and epoch (train/valid/test accuracy and loss), training seconds,
    params, FLOPs and latency; seeds an arch lacks stay NaN and are masked, never imputed.
    """
    say = progress or (lambda _m: None)
    kind = detect_official(path)
    say(f"reading {path} ({kind})")
    archs, items = _iter_official(path, kind)
    n = len(archs)
    enc = np.array([parse_arch(s) for s in archs], dtype=np.int8)
    # (ds, metric) -> {(idx, seed): curve}
    curves: dict[tuple[str, str], dict[tuple[int, int], list[float]]] = defaultdict(dict)
    cost_vals: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(
        lambda: defaultdict(list))
    seen: set[int] = set()
    for idx, hps in items:
        seen.add(idx)
        if idx % 1000 == 0:
            say(f"arch {idx}/{n}")
        try:
            _read_arch(idx, _dict(hps, 'the record'), archs, curves, cost_vals)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise DataError(f"{path}: the record of arch {idx} is malformed "
                            f"({type(exc).__name__}: {str(exc)[:80]}); the file is not "
                            "the expected release or was altered: download it again") from None
    if not seen:
        raise DataError(f"{path}: no architecture records found; download the release again")
    missing = sorted(set(range(n)) - seen)
    if missing:
        raise DataError(f"{path}: {len(missing)} of {n} archs have no record (first: arch "
                        f"{missing[0]}); the release is incomplete: download it again")
    metrics: dict[tuple[str, str], MetricArray] = {}
    for (ds, metric), by_key in curves.items():
        seeds = sorted({s for _, s in by_key})
        epochs = max(len(c) for c in by_key.values())
        arr = np.full((n, len(seeds), epochs), np.nan, dtype=np.float32)
        for (idx, seed), c in by_key.items():
            arr[idx, seeds.index(seed), : len(c)] = c
        metrics[(ds, metric)] = MetricArray(
            arr, seeds=seeds, epochs=list(range(1, epochs + 1)),
            attrs={"source": path.name, "seed_reduction": "none",
                   "units": "percent" if metric.endswith(("acc", "acc_hp12")) else "loss"})
    costs: dict[tuple[str, str], np.ndarray] = {}
    for ds in sorted({d for d, _ in metrics}):
        ncls, res = DATASET_SHAPES[ds]
        params, flops = analytic_costs(enc, ncls, res)
        costs[(ds, "params")] = params.astype(np.float64)
        costs[(ds, "flops")] = flops
    for key, by_idx in cost_vals.items():
        v = np.full(n, np.nan)
        for idx, vals in by_idx.items():
            v[idx] = float(np.mean(vals))
        costs[key] = v
    # the table's params must equal the network's (legacy-inconsistent seeds aside)
    for ds in sorted({d for d, _ in metrics}):
        tab = costs.get((ds, "params_table"))
        if tab is not None:
            m = ~np.isnan(tab)
            bad = np.abs(np.round(tab[m]) - costs[(ds, "params")][m]) > 0
            if bad.any():
                raise DataError(f"{path}: {int(bad.sum())} {ds} archs have table params that "
                                "differ from the NB201 network; not an NB201 topology release")
    src = [source_entry(path, provenance=kind)]
    say(f"writing {out}")
    return write_benchmark(
        out, benchmark=NAME, arch_ids=np.array(archs, dtype=object), encoding=enc,
        iso_class=iso_classes(enc), metrics=metrics, costs=costs, sources=src,
        converter_version=CONVERTER_VERSION, cite=CITE,
        extra={"origin": kind, "search_metric": "valid_acc", "protocol": PROTOCOL,
               "tasks": list(TASKS),
               "archs_with_records": len(seen)},
        dataset_attrs={"cifar10": {"has_valid": False, "search_on": "cifar10-valid/valid_acc"}},
    )
