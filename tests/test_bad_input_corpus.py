"""A generated corpus of bad input, each case answered by one line with a fix (a
HarnessError), never an internal error, and with nothing left behind: every array of a
converted NB201 file flipped, deleted or re-signed; every numeric key of the built-in
profiles given a wrong type or range. Marked ``corpus`` (run by ``tox -e corpus`` in
``.ci/run``); the raw-table cases convert NB201 once per case."""

from __future__ import annotations

import json
import shutil

import h5py
import pytest

from harness.core.errors import ChecksumError, ConfigError, HarnessError

pytestmark = pytest.mark.corpus


def _one_line(exc: BaseException) -> None:
    msg = str(exc)
    assert "\n" not in msg and "internal error" not in msg and len(msg) > 20, msg


# ---- converted HDF5 files -----------------------------------------------------------------
def _arrays(path) -> list[str]:
    with h5py.File(path, "r") as f:
        out: list[str] = []
        f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(out)


@pytest.fixture(scope="module")
def nb201_file(nb201):
    return nb201.h5.path


def _copy(src, dst):
    shutil.copy(src, dst)
    shutil.copy(str(src) + ".sha256", str(dst) + ".sha256")
    return dst


def pytest_generate_tests(metafunc):
    if "array_name" in metafunc.fixturenames:
        import os
        from pathlib import Path

        home = Path(os.environ.get("NAS_HARNESS_TEST_HOME") or os.environ.get(
            "NAS_HARNESS_HOME") or Path.home() / ".cache" / "nas-harness")
        names = _arrays(home / "nb201.h5") if (home / "nb201.h5").exists() else [
            "archs/encoding"]
        metafunc.parametrize("array_name", names)


@pytest.mark.parametrize("how", ["edit-bytes", "delete", "re-sign"])
def test_every_array_tampered(nb201_file, tmp_path, array_name, how):
    from harness.data.h5layout import H5Benchmark, sha256_array, verify_file

    p = _copy(nb201_file, tmp_path / "nb201.h5")
    with h5py.File(p, "r+") as f:
        ds = f[array_name]
        if how == "delete":
            del f[array_name]
        else:
            data = ds.asstr()[...] if h5py.check_string_dtype(ds.dtype) else ds[...]
            flat = data.reshape(-1)
            if flat.dtype.kind in "fiub":
                flat[0] = flat[0] + 1 if flat.dtype.kind != "b" else not flat[0]
                ds[...] = flat.reshape(data.shape)
                if how == "re-sign":
                    ds.attrs["sha256"] = sha256_array(flat.reshape(data.shape))
            else:  # strings: edit the recorded checksum instead
                ds.attrs["sha256"] = "0" * 64
    with pytest.raises(ChecksumError) as err:
        h = H5Benchmark(p)  # delete / re-sign: caught at open
        try:
            h.array(*array_name.split("/"))  # edited bytes: caught on first read
        finally:
            h.close()
    _one_line(err.value)
    with pytest.raises(HarnessError) as err:
        verify_file(p, "nb201")
    _one_line(err.value)


@pytest.mark.parametrize("content", ["", "x", "{}", "[1]", '{"sha256": "ab"}',
                                     '{"bytes": 1}', "\x00\x01", '{"sha256": null, "bytes": 1}'])
def test_sidecars(nb201_file, tmp_path, content):
    from harness.data.h5layout import verify_file

    p = _copy(nb201_file, tmp_path / "nb201.h5")
    (tmp_path / "nb201.h5.sha256").write_text(content)
    with pytest.raises(ChecksumError) as err:
        verify_file(p, "nb201")
    _one_line(err.value)


# ---- profiles -----------------------------------------------------------------------------
def _numeric_paths(obj, prefix=()):
    """Paths of every numeric leaf of a profile (bools excluded), hyperparameters skipped."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("hyperparameters",):
                continue
            yield from _numeric_paths(v, (*prefix, k))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield prefix


def _profile_cases():
    from harness.run.profile import PROFILE_DIR

    cases = []
    for name in ("smoke", "default", "paper"):
        prof = json.loads((PROFILE_DIR / f"{name}.json").read_text())
        for path in _numeric_paths(prof):
            for bad in (True, "7", [], {}, -1, 0.5, float("nan"), 10**15):
                cases.append(pytest.param(name, path, bad, id=f"{name}:{'.'.join(path)}="
                                                             f"{bad!r}"))
    return cases


def _set(prof, path, value):
    node = prof
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


# values a key may legitimately take (the rest must be refused)
_FINE = {("configuration", "max_minutes"): (0.5,), ("minutes",): (0.5,),
         ("sim_seconds",): (0.5,),
         ("experiment_seed",): (10**15,), ("configuration", "eval_batch"): (10**15,),
         ("configuration", "eval_batches"): (10**15,),
         ("configuration", "bn_batches"): (10**15,)}


@pytest.mark.parametrize("name, path, bad", _profile_cases())
def test_profile_values(tmp_path, name, path, bad):
    from harness.run.profile import PROFILE_DIR, load_profile

    prof = json.loads((PROFILE_DIR / f"{name}.json").read_text())
    _set(prof, path, bad)
    p = tmp_path / "p.json"
    p.write_text(json.dumps(prof))
    tail = tuple(path[-2:]) if path[-1] in ("max_minutes", "eval_batch", "eval_batches",
                                           "bn_batches") else (path[-1],)
    fine = _FINE.get(tail, ()) + ((10**15,) if "archs" in path or "batch_size" in path
                                  or path[-1] in ("C", "N", "epochs", "train_images",
                                                  "valid_images") else ())
    if any(bad == f and type(bad) is type(f) for f in fine):
        load_profile(str(p))  # a legitimate (if large) value
        return
    with pytest.raises(ConfigError) as err:
        load_profile(str(p))
    _one_line(err.value)
    assert str(p) in str(err.value)


# ---- raw tables -----------------------------------------------------------------------------
_RAW = {"nb201": ["nb201-test-acc/nats_bench.csv",
                  "nb201-splits/nasbench201_cifar10.csv",
                  "nb201-splits/nasbench201_cifar100.csv",
                  "nb201-splits/nasbench201_ImageNet16-120.csv",
                  "nb201-12epoch/mini-bench-arch-cell-accs.pd",
                  "nb201-naswot/arch_score_acc.pd",
                  "nb201-hardware/hw_cifar10.csv",
                  "nb201-hardware/robustness_targets.csv"],
        "tnb101-micro": ["tnb101/tnb101_index_to_arch_vascolopes.txt",
                         "tnb101/transbench101_class_scene.csv"]}


def _mutate(data: bytes, how: str) -> bytes:
    if how == "empty":
        return b""
    if how == "half":
        return data[: len(data) // 2]
    if how == "header-only":
        return data.split(b"\n", 1)[0] + b"\n"
    if how == "garbled":
        mid = len(data) // 3
        return data[:mid] + bytes(range(256)) * 8 + data[mid + 2048:]
    raise ValueError(how)


@pytest.mark.parametrize("how", ["empty", "half", "header-only", "garbled"])
@pytest.mark.parametrize("bench, rel", [(b, r) for b, rs in _RAW.items() for r in rs])
def test_raw_tables(data_root, tmp_path, monkeypatch, bench, rel, how):
    import adapters

    root = tmp_path / "data"
    root.mkdir()
    folder, name = rel.split("/")
    for d in data_root.iterdir():
        if d.name != folder:
            (root / d.name).symlink_to(d)
    shutil.copytree(data_root / folder, root / folder)
    target = root / folder / name
    target.chmod(0o644)
    target.write_bytes(_mutate((data_root / rel).read_bytes(), how))
    home = tmp_path / "home"
    monkeypatch.setenv("NAS_HARNESS_DATA", str(root))
    monkeypatch.setenv("NAS_HARNESS_HOME", str(home))
    with pytest.raises(HarnessError) as err:  # read errors, or the provenance checksum
        adapters.ensure_converted(bench, force=True)
    _one_line(err.value)
    assert str(folder) in str(err.value) or bench in str(err.value)
    assert not [p.name for p in home.glob(f"{bench}.h5*") if not p.name.endswith(".lock")]
