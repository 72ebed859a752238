"""The bad-input corpus for the official releases a user converts (NB201 .pth, NATS-Bench
.pickle.pbz2 file and folder, NB101 TFRecord, TransNAS-Bench-101 .pth): every file cut,
emptied or garbled, every key of a record deleted and every leaf given a wrong type. Each case
must end in one line with a fix (a HarnessError) and leave no output file behind; a damaged
record is never converted silently. Marked ``corpus`` (``tox -e corpus`` in ``.ci/run``)."""

from __future__ import annotations

import bz2
import collections
import copy
import pickle
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from tests import official_fixtures as fx
from tests.test_bad_input_corpus import _one_line

pytestmark = pytest.mark.corpus

KINDS = ("nats-dir", "nats-pbz2", "nb201-pth", "tnb101-pth", "nb101-tfrecord")


def _tnb_release() -> dict:
    tasks = {"class_scene": ["train_top1", "valid_top1", "test_top1", "time_elapsed"],
             "room_layout": ["train_neg_loss", "valid_neg_loss", "test_neg_loss",
                             "time_elapsed"]}
    archs = ["64-41414-0_00_000", "64-41414-3_12_010"]
    data: dict = {"micro": {}}
    for k, a in enumerate(archs):
        data["micro"][a] = {t: {"metrics": {m: [float(10 * k + e) for e in range(3)]
                                            for m in ms},
                                "total_epochs": 3,
                                "model_info": {"model_params": 1e6 * (k + 1)}}
                            for t, ms in tasks.items()}
    return {"metrics_dict": tasks, "info_names": ["model_params"], "task_list": list(tasks),
            "data": data}


def _nats_release() -> dict:
    m = fx.meta()
    m["arch2infos"] = {i: collections.OrderedDict(
        (hp, fx.arch_results(i, hp, drop_seed=(i == 2))) for hp in ("12", "200"))
        for i in range(len(fx.ARCHS))}
    m["evaluated_indexes"] = set(range(len(fx.ARCHS)))
    return m


def _write(kind: str, folder: Path, obj=None, cells=None) -> Path:
    """The release of ``kind`` under ``folder`` (``obj`` replaces its content when given)."""
    import torch

    if kind == "nats-dir":
        src = fx.write_nats_dir(folder / "NATS-tss-v1_0-3ffb9-simple")
        if obj is not None:
            (src / "000000.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(obj)))
        return src
    if kind == "nats-pbz2":
        path = folder / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
        path.write_bytes(bz2.compress(pickle.dumps(_nats_release() if obj is None else obj)))
        return path
    if kind == "nb201-pth":
        path = folder / "NAS-Bench-201-v1_1-096897.pth"
        if obj is None:
            return fx.write_nb201_pth(path)
        torch.save(obj, path)
        return path
    if kind == "tnb101-pth":
        path = folder / "transnas-bench_v10141024.pth"
        torch.save(_tnb_release() if obj is None else obj, path)
        return path
    from tests.test_nb101 import _write_official

    return _write_official(cells, folder / "nasbench_only108.tfrecord")


def _convert(kind: str, src: Path, out: Path) -> None:
    """What ``python -m harness data convert NAME --from SRC --out OUT`` does."""
    import adapters

    name = {"tnb101-pth": "tnb101-micro", "nb101-tfrecord": "nb101"}.get(kind, "nb201")
    adapters.convert_from(name, src, out)


def _assert_refused(kind: str, src: Path, out: Path) -> None:
    with pytest.raises(HarnessError) as err:
        _convert(kind, src, out)
    _one_line(err.value)
    assert src.name in str(err.value)
    assert not list(out.parent.glob(out.name + "*")), "partial output left behind"


@pytest.fixture(scope="module")
def nb101_cells(data_root):
    from harness.data import safe_pickle

    return safe_pickle.load_path(data_root / "nb101-sample" / "nb101_dummy.pkl")


# ---- bytes --------------------------------------------------------------------------------
def _damage(data: bytes, how: str) -> bytes:
    return {"empty": b"", "half": data[: len(data) // 2],
            "nine-tenths": data[: len(data) * 9 // 10],
            "last-byte-dropped": data[:-1], "zeros": bytes(len(data)),
            "garbled": data[:64] + bytes(range(256)) * 4 + data[64 + 1024:],
            "text": b"<html>404 Not Found</html>\n"}[how]


@pytest.mark.parametrize("how", ["empty", "half", "nine-tenths", "last-byte-dropped", "zeros",
                                 "garbled", "text"])
@pytest.mark.parametrize("kind", KINDS)
def test_damaged_release_files(tmp_path, nb101_cells, kind, how):
    src = _write(kind, tmp_path, cells=nb101_cells)
    target = src / "meta.pickle.pbz2" if kind == "nats-dir" else src
    target.write_bytes(_damage(target.read_bytes(), how))
    _assert_refused(kind, src, tmp_path / "out.h5")


# ---- structure ----------------------------------------------------------------------------
def _record_paths(obj, prefix=(), depth=0):
    """Key paths of every dict entry under ``obj``; of a table keyed by index, seed or epoch
    (non-string or ``name@epoch`` keys) and of a list, only the first entry."""
    if depth > 7:
        return
    if isinstance(obj, dict):
        items = list(obj.items())
        if any(not isinstance(k, str) or "@" in k for k in obj):
            items = items[:1]
        for k, v in items:
            yield (*prefix, k)
            yield from _record_paths(v, (*prefix, k), depth + 1)
    elif isinstance(obj, list) and obj:
        yield from _record_paths(obj[0], (*prefix, 0), depth + 1)


def _release(kind: str):
    if kind == "tnb101-pth":
        return _tnb_release()
    if kind == "nats-dir":
        return collections.OrderedDict((hp, fx.arch_results(0, hp)) for hp in ("12", "200"))
    if kind == "nb201-pth":
        m = fx.meta()
        m["arch2infos"] = {i: {"less": fx.arch_results(i, "12"),
                               "full": fx.arch_results(i, "200")} for i in range(len(fx.ARCHS))}
        m["evaluated_indexes"] = set(range(len(fx.ARCHS)))
        return m
    return _nats_release()


def _structure_cases():
    cases = []
    for kind in ("nats-dir", "nats-pbz2", "nb201-pth", "tnb101-pth"):
        for path in _record_paths(_release(kind)):
            for how in ("delete", "wrong-type"):
                cases.append(pytest.param(kind, path, how,
                                          id=f"{kind}:{'/'.join(map(str, path))[:70]}:{how}"))
    return cases


#: keys whose loss is no error. Absent entries are masked, never imputed (the official files
#: themselves lack some seeds): a seed's result, a schedule ("12"/"less"), an epoch of a curve,
#: an evaluation set; keys the converters do not read; and a TNB101 arch, because that release
#: lists its archs only as the keys of ``data`` (a smaller dict is a smaller space, which
#: ``data info`` reports as its arch count).
MASKED = {"less", "12", "200", "full", "latency", "train_times", "net_state_dict", "eval_times",
          "train_acc5es", "eval_names", "info_names", "model_info", "total_epochs", "name",
          "seed", "arch_config", "evaluated_indexes", "total_archs", "dataset_seed",
          "clear_net_done", "arch_index", "arch_str"}
UNREAD_IN_12_EPOCH_RECORDS = {"params", "flop", "latency"}


def _may_convert(kind: str, path: tuple, how: str) -> bool:
    names = [str(k) for k in path]
    leaf = names[-1]
    if how == "delete" and (isinstance(path[-1], tuple) or "@" in leaf
                            or isinstance(path[-1], int) and len(path) > 2
                            or leaf in MASKED or kind == "tnb101-pth" and len(path) == 3
                            or "model_info" in names):
        return True
    if any(n in ("dataset_seed", "arch_config", "clear_net_done", "arch_index", "eval_times",
                 "train_acc5es", "eval_names", "evaluated_indexes", "total_archs",
                 "net_state_dict", "info_names", "name", "seed", "total_epochs")
           for n in names):
        return True  # not read by the converter
    return (leaf in UNREAD_IN_12_EPOCH_RECORDS
            and any(n in ("less", "12") for n in names))


@pytest.mark.parametrize("kind, path, how", _structure_cases())
def test_release_structure(tmp_path, kind, path, how):
    obj = _release(kind)
    node = obj
    for k in path[:-1]:
        node = node[k]
    leaf = path[-1]
    if how == "delete":
        if isinstance(node, list):
            node.clear()
        else:
            del node[leaf]
    else:
        node[leaf] = "x" if not isinstance(node[leaf], str) else 7
    src = _write(kind, tmp_path, copy.deepcopy(obj))
    out = tmp_path / "out.h5"
    try:
        _convert(kind, src, out)
    except HarnessError as exc:
        _one_line(exc)
        assert src.name in str(exc) or src.parent.name in str(exc)
        assert not list(out.parent.glob(out.name + "*")), "partial output left behind"
        return
    assert _may_convert(kind, path, how), f"{'/'.join(map(str, path))} {how}: converted silently"



def test_the_watchdog_fails_a_hanging_case():
    """The corpus's no-hang guarantee is real: a case that blocks is failed by the alarm."""
    import time

    from tests.helpers import watchdog

    with pytest.raises(pytest.fail.Exception, match="hang: blocked ran over 1 s"):
        with watchdog(1, "blocked"):
            time.sleep(10)
