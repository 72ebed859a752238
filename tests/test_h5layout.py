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


# ---- integrity on read ------------------------------------------------------------------------
def test_a_flipped_array_is_caught_on_first_read(tmp_path):
    p = tmp_path / "b.h5"
    _write(p)
    _flip_byte_in_array(p)  # /d/cost/params (uncompressed): bytes edited, checksum kept
    h = H5Benchmark(p)  # the content digest still matches: the recorded checksums agree
    assert h.array("d", "valid_acc").shape == (400, 2, 3)  # untouched arrays read fine
    with pytest.raises(ChecksumError, match=r"array /d/cost/params does not match its "
                                            r"recorded sha256 .* convert again"):
        h.array("d", "cost", "params")
    h.close()


def test_a_re_signed_edit_is_caught_at_open_and_a_full_re_sign_changes_the_key(tmp_path):
    from harness.data.h5layout import _content_digest, sha256_array

    p = tmp_path / "b.h5"
    _write(p)
    before = H5Benchmark(p)
    key_before = before.attrs["content_sha256"]
    before.close()
    with h5py.File(p, "r+") as f:  # edit an array and re-sign it, not the content digest
        ds = f["d/cost/params"]
        new = ds[...] + 1
        ds[...] = new
        ds.attrs["sha256"] = sha256_array(new)
    with pytest.raises(ChecksumError, match="content digest .* does not match the recorded"):
        H5Benchmark(p)
    with h5py.File(p, "r+") as f:  # ... and the content digest too: then it is other data
        f.attrs["content_sha256"] = _content_digest(f)
    h = H5Benchmark(p)
    assert h.attrs["content_sha256"] != key_before  # rows are keyed by what was verified
    assert np.array_equal(h.array("d", "cost", "params"), np.arange(400) + 1)
    h.close()
    with h5py.File(p, "r+") as f:  # an array deleted
        del f["d/cost/params"]
    with pytest.raises(ChecksumError, match="content digest"):
        H5Benchmark(p)


@pytest.mark.parametrize("content", ["", "{not json", '{"sha256": 5}', "[]"])
def test_sidecar_problems_are_one_line(tmp_path, content):
    p = tmp_path / "b.h5"
    _write(p)
    (tmp_path / "b.h5.sha256").write_text(content)
    with pytest.raises(ChecksumError, match="sidecar b.h5.sha256 is empty or malformed"):
        verify_file(p)


def test_verify_checks_the_benchmark_name(tmp_path):
    p = tmp_path / "b.h5"
    _write(p)  # holds "nb201"
    with pytest.raises(ChecksumError, match="holds benchmark 'nb201', not 'tnb101-micro'"):
        verify_file(p, "tnb101-micro")
    assert verify_file(p, "nb201")["arrays_checked"] == 6


def test_a_killed_conversion_leaves_nothing_behind(tmp_path):
    p = tmp_path / "b.h5"
    stale = tmp_path / "b.h5.999999999.tmp"  # a pid that cannot be alive
    stale.write_bytes(b"half-written")
    _write(p)
    assert not stale.exists() and sorted(x.name for x in tmp_path.iterdir()) == [
        "b.h5", "b.h5.sha256"]

    bad = {("d", "valid_acc"): MetricArray(np.zeros((3, 1, 1)), seeds=[1], epochs=[1])}
    with pytest.raises(ValueError, match="3 rows, expected 400"):
        write_benchmark(tmp_path / "c.h5", benchmark="nb201",
                        arch_ids=np.array([f"a{i}" for i in range(400)], dtype=object),
                        encoding=np.zeros((400, 6), int), iso_class=np.arange(400),
                        metrics=bad, costs={}, sources=[], converter_version="t", cite="t")
    assert not list(tmp_path.glob("c.h5*"))
