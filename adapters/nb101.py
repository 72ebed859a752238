"""NAS-Bench-101 converter: the official TFRecord releases (``nasbench_only108.tfrecord``,
``nasbench_full.tfrecord``) into layout v1, without TensorFlow.

Each record is JSON ``[module_hash, epochs, adjacency bits, "op,op,...", base64 metrics]``;
the metrics are a ``ModelMetrics`` protobuf (the published ``model_metrics.proto``), decoded
with the ``protobuf`` package from a descriptor built here. The conversion streams: one
record at a time into preallocated arrays (peak memory ~0.5 GB on the full file).

Layout: dataset ``cifar10``; metrics ``train_acc``/``valid_acc``/``test_acc`` (final, in
percent) and ``*_halfway``, plus ``train_seconds``, each shaped (archs, 3 repeats, epoch
budgets [4, 12, 36, 108]) — every budget is its own training run; missing repeats masked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from adapters import nb101_space as space
from adapters.tfrecord import read_records
from harness.core.errors import DataError
from harness.data.h5layout import MetricArray, source_entry, write_benchmark

CONVERTER_VERSION = "nb101-1.0"
CITE = ("Ying et al., NAS-Bench-101: Towards Reproducible Neural Architecture Search, "
        "ICML 2019")
BUDGETS = (4, 12, 36, 108)
REPEATS = 3
_FIELDS = ("train_acc", "valid_acc", "test_acc", "train_seconds")


def metrics_message_class():
    """ModelMetrics / EvaluationData message classes from the published proto definition."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fdp = descriptor_pb2.FileDescriptorProto(name="nasbench_model_metrics.proto",
                                             package="nasbench", syntax="proto2")
    ev = fdp.message_type.add(name="EvaluationData")
    F = descriptor_pb2.FieldDescriptorProto
    for i, n in enumerate(("current_epoch", "training_time", "train_accuracy",
                           "validation_accuracy", "test_accuracy"), start=1):
        ev.field.add(name=n, number=i, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    ev.field.add(name="predictions_file", number=6, type=F.TYPE_STRING,
                 label=F.LABEL_OPTIONAL)
    mm = fdp.message_type.add(name="ModelMetrics")
    mm.field.add(name="evaluation_data", number=1, type=F.TYPE_MESSAGE,
                 type_name=".nasbench.EvaluationData", label=F.LABEL_REPEATED)
    mm.field.add(name="trainable_parameters", number=2, type=F.TYPE_INT32,
                 label=F.LABEL_OPTIONAL)
    mm.field.add(name="total_time", number=3, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    get = getattr(message_factory, "GetMessageClass", None)
    if get is None:  # protobuf < 4.22
        fac = message_factory.MessageFactory(pool)
        return (fac.GetPrototype(pool.FindMessageTypeByName("nasbench.ModelMetrics")),
                fac.GetPrototype(pool.FindMessageTypeByName("nasbench.EvaluationData")))
    return (get(pool.FindMessageTypeByName("nasbench.ModelMetrics")),
            get(pool.FindMessageTypeByName("nasbench.EvaluationData")))


def parse_record(data: bytes, Metrics) -> tuple[str, int, np.ndarray, list[str], object]:
    try:
        h, epochs, adj, ops, raw = json.loads(data.decode("utf-8"))
        n = int(round(len(adj) ** 0.5))
        m = np.array([int(c) for c in adj], dtype=np.int64).reshape(n, n)
        msg = Metrics()
        msg.ParseFromString(base64.b64decode(raw))
    except Exception as exc:
        raise DataError(f"not an NB101 record ({type(exc).__name__}: {exc})") from None
    return h, int(epochs), m, ops.split(","), msg


def convert_official(path: Path, out: Path, progress: Callable[[str], None] | None = None,
                     check_hash: bool = True) -> str:
    """Stream an official NB101 TFRecord into layout v1 (see module docstring)."""
    say = progress or (lambda _m: None)
    Metrics, _ = metrics_message_class()
    cap = 1 << 12
    index: dict[str, int] = {}
    ids: list[str] = []
    enc = np.zeros((cap, space.ENC_WIDTH), dtype=np.int8)
    params = np.full(cap, np.nan)
    arrs = {f: np.full((cap, REPEATS, len(BUDGETS)), np.nan, dtype=np.float32)
            for f in (*_FIELDS, "train_acc_halfway", "valid_acc_halfway", "test_acc_halfway")}
    seen = np.zeros((cap, len(BUDGETS)), dtype=np.int8)
    k = 0
    for k, data in enumerate(read_records(path), start=1):
        try:
            h, epochs, m, ops, msg = parse_record(data, Metrics)
        except DataError as exc:
            raise DataError(f"{path}: record {k}: {exc}") from None
        if epochs not in BUDGETS:
            raise DataError(f"{path}: record {k} has epoch budget {epochs}, expected one of "
                            f"{BUDGETS}")
        i = index.get(h)
        if i is None:
            if check_hash and space.module_hash(m, ops) != h:
                raise DataError(f"{path}: record {k}: module_hash {h} does not match its graph "
                                "(corrupted or not the official release)")
            i = index[h] = len(ids)
            ids.append(h)
            if i >= len(params):  # grow the preallocated arrays
                grow = len(params)
                enc = np.concatenate([enc, np.zeros((grow, space.ENC_WIDTH), np.int8)])
                params = np.concatenate([params, np.full(grow, np.nan)])
                seen = np.concatenate([seen, np.zeros((grow, len(BUDGETS)), np.int8)])
                for f in arrs:
                    arrs[f] = np.concatenate([arrs[f], np.full_like(arrs[f], np.nan)])
            enc[i] = space.encode(m, ops)
            params[i] = msg.trainable_parameters
        b = BUDGETS.index(epochs)
        r = int(seen[i, b])
        if r >= REPEATS:
            raise DataError(f"{path}: arch {h} has more than {REPEATS} repeats at {epochs} "
                            "epochs")
        seen[i, b] += 1
        evs = list(msg.evaluation_data)
        final, half = evs[-1], evs[len(evs) // 2] if len(evs) >= 3 else evs[-1]
        arrs["train_acc"][i, r, b] = 100 * final.train_accuracy
        arrs["valid_acc"][i, r, b] = 100 * final.validation_accuracy
        arrs["test_acc"][i, r, b] = 100 * final.test_accuracy
        arrs["train_seconds"][i, r, b] = final.training_time
        arrs["train_acc_halfway"][i, r, b] = 100 * half.train_accuracy
        arrs["valid_acc_halfway"][i, r, b] = 100 * half.validation_accuracy
        arrs["test_acc_halfway"][i, r, b] = 100 * half.test_accuracy
        if k % 100_000 == 0:
            say(f"{k} records, {len(ids)} archs")
    n = len(ids)
    if n == 0:
        raise DataError(f"{path}: no records")
    metrics = {("cifar10", f): MetricArray(a[:n], seeds=list(range(REPEATS)),
                                           epochs=list(BUDGETS),
                                           attrs={"source": path.name,
                                                  "seed_reduction": "none (repeat index)",
                                                  "epoch_axis": "epoch budget: each is its "
                                                                "own training run"})
               for f, a in arrs.items()}
    with np.errstate(invalid="ignore"):
        t108 = np.nanmean(arrs["train_seconds"][:n, :, -1], axis=1)
    costs = {("cifar10", "params"): params[:n], ("cifar10", "train_seconds"): t108}
    src = [source_entry(path, provenance="official NAS-Bench-101 TFRecord")]
    say(f"writing {out} ({n} archs from {k} records)")
    return write_benchmark(
        out, benchmark="nb101", arch_ids=np.array(ids, dtype=object), encoding=enc[:n],
        iso_class=np.arange(n, dtype=np.int32), metrics=metrics, costs=costs, sources=src,
        converter_version=CONVERTER_VERSION, cite=CITE,
        extra={"origin": "official-tfrecord", "tasks": ["cifar10"],
               "protocol": {"cifar10": ["cifar10", "valid_acc", "cifar10", "test_acc"]},
               "records": k, "iso_key": "module_hash (one row per isomorphism class)"})


def shared_data_present(root: Path | None) -> bool:
    """No full NB101 table exists in the shared data: convert the official file."""
    return False


def convert_shared(root: Path, out: Path, progress=None) -> str:
    raise DataError("no full NAS-Bench-101 table in the data root; run 'python -m harness data "
                    "convert nb101 --from nasbench_only108.tfrecord'")
