"""HDF5 layout v1: writer/reader, checksums, corruption and version errors."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from harness.core.errors import ChecksumError, DataError, SchemaVersionError
from harness.data.h5layout import H5Benchmark, MetricArray, verify_file, write_benchmark
from tests.helpers import assert_one_line_error, run_cli


def _write(path, n=400):
    rng = np.random.default_rng(0)
    vals = rng.uniform(0, 100, size=(n, 2, 3)).astype(np.float32)
    vals[3, 1, :] = np.nan  # a missing seed
    write_benchmark(
        path, benchmark="nb201", arch_ids=np.array([f"a{i}" for i in range(n)], dtype=object),
        encoding=rng.integers(0, 5, size=(n, 6)), iso_class=np.arange(n),
        metrics={("d", "valid_acc"): MetricArray(vals, seeds=[1, 2], epochs=[1, 2, 3])},
        costs={("d", "params"): np.arange(n, dtype=float)},
        sources=[{"name": "raw.csv", "sha256": "0" * 64, "bytes": 1}],
        converter_version="t-1", cite="test")
    return vals


def test_write_read_round_trip(tmp_path):
    p = tmp_path / "b.h5"
    vals = _write(p)
    h = H5Benchmark(p)
    assert h.num_archs == 400 and h.datasets() == ["d"] and h.metrics("d") == ["valid_acc"]
    assert np.array_equal(h.array("d", "valid_acc"), vals, equal_nan=True)
    mask = h.array("d", "valid_acc_mask")
    assert not mask[3, 1] and mask.sum() == 799
    assert h.metric_attrs("d", "valid_acc")["seeds"] == [1, 2]
    assert h.attrs["source"][0]["name"] == "raw.csv"
    ds = h._f["d/valid_acc"]
    assert ds.compression == "gzip" and ds.chunks is not None
    h.close()
    assert verify_file(p)["arrays_checked"] == 6


def _flip_byte_in_array(path):
    with h5py.File(path, "r") as f:
        offset = f["d/cost/params"].id.get_offset()
    data = bytearray(path.read_bytes())
    data[offset + 5] ^= 0xFF
    path.write_bytes(bytes(data))


def test_truncated_and_flipped_files_fail_verify(tmp_path):
    p = tmp_path / "b.h5"
    _write(p)
    t = tmp_path / "t.h5"
    shutil.copy(p, t)
    shutil.copy(str(p) + ".sha256", str(t) + ".sha256")
    t.write_bytes(t.read_bytes()[:-1000])
    with pytest.raises(ChecksumError, match="truncated"):
        verify_file(t)
    f = tmp_path / "f.h5"
    shutil.copy(p, f)
    shutil.copy(str(p) + ".sha256", str(f) + ".sha256")
    _flip_byte_in_array(f)
    with pytest.raises(ChecksumError, match="corrupted"):
        verify_file(f)


def test_cli_verify_on_truncated_and_flipped_copies(tmp_path, nb201):
    src = nb201.path
    for name, damage in (("trunc", lambda b: b[: len(b) // 2]),
                         ("flip", lambda b: b[:4_000_000] + bytes([b[4_000_000] ^ 1])
                          + b[4_000_001:])):
        dst = tmp_path / f"{name}.h5"
        dst.write_bytes(damage(src.read_bytes()))
        shutil.copy(str(src) + ".sha256", str(dst) + ".sha256")
        proc = run_cli("data", "verify", "nb201", "--file", str(dst))
        assert_one_line_error(proc, "error:", str(dst))


def test_truncated_file_without_sidecar_fails_to_open(tmp_path):
    p = tmp_path / "b.h5"
    _write(p)
    p.write_bytes(p.read_bytes()[:2000])
    with pytest.raises(DataError, match="truncated or corrupt"):
        H5Benchmark(p)


def test_schema_version_is_checked(tmp_path):
    p = tmp_path / "b.h5"
    _write(p)
    with h5py.File(p, "a") as f:
        f.attrs["schema_version"] = 99
    with pytest.raises(SchemaVersionError, match="version 99.*re-convert"):
        H5Benchmark(p)
    proc = run_cli("data", "info", "nb201", "--file", str(p))
    assert_one_line_error(proc, "layout version 99")


def test_missing_file(tmp_path):
    proc = run_cli("data", "verify", "nb201", "--file", str(tmp_path / "nope.h5"))
    assert_one_line_error(proc, "not found", "data convert")
