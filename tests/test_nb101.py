"""NAS-Bench-101: official hash and parameter counts on the 30 real cells, hash invariance
(hypothesis), and the TFRecord converter on a file written in the official format."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import open_file
from adapters.nb101 import convert_official, metrics_message_class
from adapters.nb101_model import NB101Network
from adapters.nb101_space import (
    OPS,
    NB101Space,
    check_cell,
    decode,
    encode,
    module_hash,
    permute,
)
from adapters.tfrecord import write_records
from harness.core.errors import DataError, InvalidArchError
from harness.data import safe_pickle
from tests.helpers import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def cells(data_root):
    """The 30 real NB101 records: {module_hash: (fixed stats, {108: [3 repeats]})}."""
    return safe_pickle.load_path(data_root / "nb101-sample" / "nb101_dummy.pkl")


def test_hashes_equal_the_official_module_hash(cells):
    for h, (fixed, _) in cells.items():
        assert module_hash(fixed["module_adjacency"], fixed["module_operations"]) == h


def test_parameter_counts_equal_trainable_parameters(cells):
    for fixed, _ in cells.values():
        with torch.device("meta"):
            net = NB101Network(fixed["module_adjacency"], fixed["module_operations"])
        assert sum(p.numel() for p in net.parameters()) == fixed["trainable_parameters"]


def test_forward_and_encoding_round_trip(cells):
    fixed, _ = next(iter(cells.values()))
    m, ops = fixed["module_adjacency"], fixed["module_operations"]
    m2, ops2 = decode(encode(m, ops))
    assert module_hash(m2, ops2) == module_hash(m, ops)
    assert NB101Network(m, ops)(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


@st.composite
def cell_and_order(draw):
    n = draw(st.integers(3, 7))
    bits = draw(st.lists(st.integers(0, 1), min_size=n * (n - 1) // 2,
                         max_size=n * (n - 1) // 2))
    m = np.zeros((n, n), dtype=int)
    m[np.triu_indices(n, 1)] = bits
    ops = ["input"] + [draw(st.sampled_from(OPS)) for _ in range(n - 2)] + ["output"]
    return m, ops, draw(st.permutations(list(range(1, n - 1))))


@settings(max_examples=300, deadline=None)
@given(cell_and_order())
def test_hash_is_invariant_under_vertex_relabelling(args):
    m, ops, perm = args
    try:
        check_cell(m, ops)
    except InvalidArchError:
        return
    pm, pops = permute(m, ops, perm)
    # a relabelling that breaks the topological order is a different matrix of the same
    # graph: the hash only needs the graph, so compare regardless of triangularity
    assert module_hash(pm, pops) == module_hash(m, ops)


def test_invalid_cells_are_rejected():
    m = np.zeros((3, 3), int)
    with pytest.raises(InvalidArchError, match="no path"):
        check_cell(m, ["input", OPS[0], "output"])
    m = np.triu(np.ones((7, 7), int), 1)
    with pytest.raises(InvalidArchError, match="at most 9"):
        check_cell(m, ["input"] + [OPS[0]] * 5 + ["output"])


def _write_official(cells, path, drop_repeat: bool = False):
    """A TFRecord in the official layout from the real records (+ a 36-epoch budget made
    from their halfway values, to exercise the epoch-budget axis)."""
    Metrics, Eval = metrics_message_class()
    records = []
    for k, (h, (fixed, comp)) in enumerate(cells.items()):
        m, ops = fixed["module_adjacency"], fixed["module_operations"]
        adj = "".join(str(int(x)) for x in np.asarray(m).ravel())
        for epochs, key in ((108, "final"), (36, "halfway")):
            reps = comp[108][: 2 if (drop_repeat and k == 0) else 3]
            for rep in reps:
                msg = Metrics(trainable_parameters=fixed["trainable_parameters"],
                              total_time=rep["final_training_time"])
                msg.evaluation_data.add(current_epoch=0)
                for tag, ep in (("halfway", epochs / 2), (key, epochs)):
                    msg.evaluation_data.add(
                        current_epoch=ep, training_time=rep[f"{tag}_training_time"],
                        train_accuracy=rep[f"{tag}_train_accuracy"],
                        validation_accuracy=rep[f"{tag}_validation_accuracy"],
                        test_accuracy=rep[f"{tag}_test_accuracy"])
                raw = base64.b64encode(msg.SerializeToString()).decode()
                records.append(json.dumps([h, epochs, adj, ",".join(ops), raw]).encode())
    write_records(path, records)
    return path


def test_tfrecord_round_trip_is_exact(cells, tmp_path):
    src = _write_official(cells, tmp_path / "nasbench_only108.tfrecord", drop_repeat=True)
    out = tmp_path / "nb101.h5"
    convert_official(src, out)
    b = open_file("nb101", out)
    assert b.num_archs == 30 and list(b.archs) == list(cells)
    for i, (fixed, comp) in enumerate(cells.values()):
        assert b.cost([i], "params", "cifar10")[0] == fixed["trainable_parameters"]
        reps = comp[108]
        for r in range(2):
            for metric, key in (("valid_acc", "final_validation_accuracy"),
                                ("test_acc", "final_test_accuracy")):
                got = b.query([i], metric, "cifar10", epoch=108, seed=r)[0]
                assert got == np.float32(100 * reps[r][key])
            got = b.query([i], "valid_acc", "cifar10", epoch=36, seed=r)[0]
            assert got == np.float32(100 * reps[r]["halfway_validation_accuracy"])
    assert np.isnan(b.query([0], "valid_acc", "cifar10", epoch=108, seed=2)[0])  # masked
    assert np.isnan(b.query([0], "valid_acc", "cifar10", epoch=4)[0])  # budget not in file
    # the space and the model builder work on the converted table
    assert isinstance(b.space, NB101Space) and len(b.neighbours(0)) >= 0
    model = b.build_model([3], "cifar10")
    assert sum(p.numel() for p in model.parameters()) == b.cost([3], "params", "cifar10")[0]
    b.close()


def test_corrupted_tfrecord_is_rejected_with_one_line(cells, tmp_path, env_home):
    src = _write_official(cells, tmp_path / "nasbench_only108.tfrecord")
    data = bytearray(src.read_bytes())
    data[200] ^= 0x01
    bad = tmp_path / "bad.tfrecord"
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match="CRC mismatch"):
        convert_official(bad, tmp_path / "x.h5")
    proc = run_cli("data", "convert", "nb101", "--from", str(bad), "--out",
                   str(tmp_path / "y.h5"), env={"NAS_HARNESS_HOME": str(env_home)})
    assert_one_line_error(proc, "CRC mismatch", "download it again")
    trunc = tmp_path / "trunc.tfrecord"
    trunc.write_bytes(src.read_bytes()[:-7])
    proc = run_cli("data", "convert", "nb101", "--from", str(trunc), "--out",
                   str(tmp_path / "z.h5"), env={"NAS_HARNESS_HOME": str(env_home)})
    assert_one_line_error(proc, "truncated")


def test_relabelled_cells_find_their_table_row_by_hash(cells, tmp_path):
    """Search moves produce arbitrary labellings; the space finds the table's row of any
    isomorphic relabelling (by the official hash), as the official API does."""
    from itertools import permutations

    convert_official(_write_official(cells, tmp_path / "f.tfrecord"), tmp_path / "nb.h5")
    b = open_file("nb101", tmp_path / "nb.h5")
    found = 0
    for i, (fixed, _) in enumerate(cells.values()):
        m, ops = np.asarray(fixed["module_adjacency"]), list(fixed["module_operations"])
        n = len(ops)
        for perm in list(permutations(range(1, n - 1)))[:40]:
            m2, ops2 = permute(m, ops, perm)
            if np.tril(m2).any():  # not a valid labelling (breaks the DAG order)
                continue
            assert b.space._lookup(m2, ops2) == i
            found += 1
    assert found > 60
    b.close()


def _complete_small_table(path):
    """Every cell on at most 5 vertices (all 2^10 adjacencies x 3^3 ops, pruned, one row per
    hash), with synthetic accuracies: a table on which a 5-vertex policy always lands."""
    from adapters.nb101 import CITE, CONVERTER_VERSION
    from harness.data.h5layout import MetricArray, write_benchmark

    rows: dict[str, np.ndarray] = {}
    iu = np.triu_indices(5, 1)
    for bits in range(1 << 10):
        m = np.zeros((5, 5), dtype=np.int64)
        m[iu] = [(bits >> k) & 1 for k in range(10)]
        for code in range(27):
            ops = ["input"] + [OPS[(code // 3 ** k) % 3] for k in range(3)] + ["output"]
            try:
                check_cell(m, ops)
            except InvalidArchError:
                continue
            rows.setdefault(module_hash(m, ops), encode(m, ops))
    ids = np.array(sorted(rows), dtype=object)
    acc = np.array([85 + 10 * int(h[:6], 16) / 16 ** 6 for h in ids], dtype=np.float32)
    write_benchmark(path, benchmark="nb101", arch_ids=ids,
                    encoding=np.stack([rows[h] for h in ids]),
                    iso_class=np.arange(len(ids), dtype=np.int32),
                    metrics={("cifar10", "valid_acc"): MetricArray(acc),
                             ("cifar10", "test_acc"): MetricArray(acc - 0.5)},
                    costs={}, sources=[], converter_version=CONVERTER_VERSION, cite=CITE,
                    extra={"tasks": ["cifar10"]})
    return len(ids)


def test_reinforce_samples_nb101_cells_edge_by_edge(tmp_path):
    """REINFORCE on NB101 (Bernoulli per adjacency bit, categorical per op, as in the NB101
    paper) passes the conformance suite on a table that holds every cell of its space."""
    from harness.core.registry import default_registry
    from harness.testing import check_method

    n = _complete_small_table(tmp_path / "small.h5")
    b = open_file("nb101", tmp_path / "small.h5")
    assert b.num_archs == n > 1000
    assert b.space.vertices == 5 and b.space.choice_sizes == (2,) * 10 + (3,) * 3
    assert len(check_method(default_registry().get("reinforce"), b, "cifar10")) == 7
    b.close()
