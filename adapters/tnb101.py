"""TransNAS-Bench-101 (Duan et al., CVPR 2021): micro (4,096 cells) and macro (3,256
skeletons) spaces, seven tasks, converted from the shared tables into layout v1.

Arch ids are the official strings: micro ``64-41414-a_bc_def`` (ops 0 none, 1 skip,
2 conv1x1, 3 conv3x3 on the NB201-shaped cell), macro ``64-XXXX[XX]-basic`` (4-6 modules,
1 normal, 2 channels x2, 3 resolution /2, 4 both). Values are best over epochs (the
source's ``mode='best'``); each task's ``time_elapsed`` becomes ``cost/train_seconds``, so
search budgets on TNB101 can be in simulated seconds.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from adapters.nb201_space import iso_classes
from harness.core.errors import DataError, DataMissingError
from harness.data.h5layout import MetricArray, source_entry, write_benchmark

CONVERTER_VERSION = "tnb101-1.0"
CITE = ("Duan et al., TransNAS-Bench-101: Improving Transferability and Generalizability of "
        "Cross-Task Neural Architecture Search, CVPR 2021")
TASKS = ("class_scene", "class_object", "room_layout", "jigsaw", "segmentsemantic",
         "normal", "autoencoder")
#: the metric a search maximises / reports, per task (higher is better for every one)
PRIMARY = {"class_scene": "top1", "class_object": "top1", "jigsaw": "top1",
           "segmentsemantic": "mIoU", "room_layout": "neg_loss", "normal": "ssim",
           "autoencoder": "ssim"}
INDEX_FILE = "tnb101/tnb101_index_to_arch_vascolopes.txt"
#: classes of the classification heads (the backbone alone serves the other tasks)
NUM_CLASSES = {"class_scene": 63, "class_object": 100}
#: Taskonomy images are 256 x 256 (TransNAS-Bench-101 paper, Sec. 3)
INPUT_RESOLUTION = 256
SPACES = {"micro": (3256, 7352), "macro": (0, 3256)}


def _files(root: Path) -> list[str]:
    return [INDEX_FILE] + [f"tnb101/transbench101_{t}.csv" for t in TASKS]


def _protocol(tasks) -> dict[str, list[str]]:
    """Search on each task's validation metric, report its test metric."""
    return {t: [t, f"valid_{PRIMARY[t]}", t, f"test_{PRIMARY[t]}"] for t in tasks}


def shared_data_present(root: Path | None) -> bool:
    return root is not None and all((root / f).exists() for f in _files(root))


def parse_arch(code: str) -> tuple[str, tuple[int, ...]]:
    """('micro'|'macro', fixed-width encoding) of an official TNB101 arch string."""
    m = re.fullmatch(r"64-41414-(\d)_(\d\d)_(\d\d\d)", code)
    if m:
        ops = tuple(int(c) for c in "".join(m.groups()))
        if all(0 <= o <= 3 for o in ops):
            return "micro", ops
    m = re.fullmatch(r"64-([1-4]{4,6})-basic", code)
    if m:
        mods = [int(c) for c in m.group(1)]
        return "macro", tuple(mods + [0] * (6 - len(mods)))
    from harness.core.errors import InvalidArchError

    raise InvalidArchError(f"invalid TransNAS-Bench-101 arch {code!r}: expected "
                           "64-41414-a_bc_def (micro) or 64-XXXX-basic (macro)")


def arch_string(space: str, encoding) -> str:
    """Inverse of :func:`parse_arch`."""
    e = [int(x) for x in encoding]
    if space == "micro":
        return "64-41414-{}_{}{}_{}{}{}".format(*e)
    return "64-" + "".join(str(x) for x in e if x) + "-basic"


def convert_shared(root: Path, out: Path, space: str,
                   progress: Callable[[str], None] | None = None) -> str:
    """Write the ``space`` ('micro' or 'macro') file from the shared TNB101 tables."""
    say = progress or (lambda _m: None)
    missing = [f for f in _files(root) if not (root / f).exists()]
    if missing:
        raise DataMissingError(f"{root}: missing {', '.join(missing)}")
    lines = (root / INDEX_FILE).read_text().splitlines()
    codes = {}
    for ln in lines:
        m = re.search(r"arch-index=(\d+), arch=([^,]+),", ln)
        if m:
            codes[int(m.group(1))] = m.group(2)
    if len(codes) != 7352:
        raise DataError(f"{INDEX_FILE}: {len(codes)} archs, expected 7,352")
    lo, hi = SPACES[space]
    ids = [codes[i] for i in range(lo, hi)]
    parsed = [parse_arch(c) for c in ids]
    if any(s != space for s, _ in parsed):
        raise DataError(f"{INDEX_FILE}: indexes {lo}..{hi - 1} are not all {space} archs")
    enc = np.array([e for _, e in parsed], dtype=np.int8)
    metrics: dict[tuple[str, str], MetricArray] = {}
    costs: dict[tuple[str, str], np.ndarray] = {}
    for task in TASKS:
        rel = f"tnb101/transbench101_{task}.csv"
        say(f"reading {rel} ({space})")
        with open(root / rel, newline="") as fh:
            rows = list(csv.DictReader(fh))
        if len(rows) != 7352 or [int(r["file_id"]) for r in rows] != list(range(7352)):
            raise DataError(f"{rel}: rows are not file_id 0..7351 in order")
        rows = rows[lo:hi]
        for col in rows[0]:
            if col in ("file_id",):
                continue
            vals = np.array([float(r[col]) if r[col] not in ("", "nan") else np.nan
                             for r in rows])
            if col == "time_elapsed":
                costs[(task, "train_seconds")] = vals
                continue
            metrics[(task, col)] = MetricArray(vals, seeds=[-1], epochs=[0], attrs={
                "source": rel, "epoch_reduction": "best over epochs (mode='best')",
                "higher_is_better": not col.endswith("loss") or col.endswith("neg_loss")})
    iso = iso_classes(enc) if space == "micro" else np.arange(len(enc), dtype=np.int32)
    protocol = _protocol(TASKS)
    sources = [source_entry(root / rel, rel) for rel in _files(root)]
    say(f"writing {out}")
    return write_benchmark(
        out, benchmark=f"tnb101-{space}", arch_ids=np.array(ids, dtype=object), encoding=enc,
        iso_class=iso, metrics=metrics, costs=costs, sources=sources,
        converter_version=CONVERTER_VERSION, cite=CITE,
        extra={"origin": "shared-data", "protocol": protocol, "tasks": list(TASKS),
               "official_index_offset": lo, "primary_metric": PRIMARY,
               "iso_key": "NB201 unique-str rule on the cell" if space == "micro" else
               "identity (macro skeletons have no isomorphic duplicates)",
               "notes": "values are best over epochs; no per-seed or per-epoch values"})


def convert_official(path: Path, out: Path, space: str,
                     progress: Callable[[str], None] | None = None) -> str:
    """Convert ``space`` of the official ``transnas-bench_v10141024.pth``.

    The release is a torch-saved dict ``{metrics_dict, info_names, task_list, data: {space:
    {arch: {task: {metrics: {name: per-epoch list}, model_info: {...}, total_epochs}}}}}``,
    read with ``torch.load(weights_only=True)`` (no code is unpickled). ``<metric>`` is the
    best value over epochs (the API's ``mode='best'``, like the shared tables) and
    ``<metric>_curve`` keeps every epoch; ``time_elapsed`` becomes ``cost/train_seconds``
    and ``model_info`` entries become costs.
    """
    import torch

    say = progress or (lambda _m: None)
    try:
        db = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataError(f"{path}: cannot read as the TransNAS-Bench-101 .pth release "
                        f"({type(exc).__name__}: {str(exc).splitlines()[0][:100]}); it is "
                        "truncated or not the expected file") from None
    if not isinstance(db, dict) or "data" not in db or space not in db["data"]:
        raise DataError(f"{path}: no '{space}' search space in 'data'; not the TNB101 release")
    archs = list(db["data"][space])
    say(f"{len(archs)} {space} archs, tasks {db.get('task_list')}")
    parsed = [parse_arch(a) for a in archs]
    enc = np.array([e for _, e in parsed], dtype=np.int8)
    metrics: dict[tuple[str, str], MetricArray] = {}
    costs: dict[tuple[str, str], np.ndarray] = {}
    n = len(archs)
    for task in db["task_list"]:
        names = db["metrics_dict"][task]
        emax = max(len(db["data"][space][a][task]["metrics"][names[0]]) for a in archs)
        for name in names:
            curve = np.full((n, 1, emax), np.nan)
            for i, a in enumerate(archs):
                vals = db["data"][space][a][task]["metrics"][name]
                curve[i, 0, : len(vals)] = vals
            if name == "time_elapsed":
                costs[(task, "train_seconds")] = np.nanmax(curve[:, 0, :], axis=1)
                continue
            metrics[(task, name)] = MetricArray(
                np.nanmax(curve, axis=2), seeds=[-1], epochs=[0],
                attrs={"source": path.name, "epoch_reduction": "best over epochs"})
            metrics[(task, name + "_curve")] = MetricArray(
                curve, seeds=[-1], epochs=list(range(1, emax + 1)),
                attrs={"source": path.name})
        for info in db.get("info_names", []):
            costs[(task, info)] = np.array(
                [float(db["data"][space][a][task]["model_info"].get(info, np.nan))
                 for a in archs])
    iso = iso_classes(enc) if space == "micro" else np.arange(n, dtype=np.int32)
    tasks = [t for t in TASKS if t in db["task_list"]]
    protocol = _protocol(tasks)
    src = [source_entry(path, provenance="official TransNAS-Bench-101 release")]
    say(f"writing {out}")
    return write_benchmark(
        out, benchmark=f"tnb101-{space}", arch_ids=np.array(archs, dtype=object),
        encoding=enc, iso_class=iso, metrics=metrics, costs=costs, sources=src,
        converter_version=CONVERTER_VERSION, cite=CITE,
        extra={"origin": "official-pth", "protocol": protocol, "tasks": tasks,
               "primary_metric": PRIMARY})

