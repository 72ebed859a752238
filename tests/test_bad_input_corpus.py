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


#: words that start the fix part of a message ("...; delete it and convert again")
FIX_WORDS = ("give", "choose", "run ", "delete", "restore", "set ", "pass", "fix", "point",
             "lower", "raise", "use ", "add", "convert", "see ", "create", "rename", "remove",
             "install", "download")


def has_fix(msg: str) -> bool:
    low = msg.lower()
    return any(w in low for w in FIX_WORDS)


def _one_line(exc: BaseException) -> None:
    msg = str(exc)
    assert "\n" not in msg and "internal error" not in msg and len(msg) > 20, msg
    assert has_fix(msg), f"no fix offered: {msg}"


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


#: arrays in a converted NB201 file (layout v1; checked below, so the corpus cannot shrink)
NB201_ARRAYS = 105


def test_the_corpus_covers_every_array(nb201_file):
    assert len(_arrays(nb201_file)) == NB201_ARRAYS


@pytest.mark.parametrize("how", ["edit-bytes", "delete", "re-sign"])
@pytest.mark.parametrize("index", range(NB201_ARRAYS))
def test_every_array_tampered(nb201_file, tmp_path, index, how):
    from harness.data.h5layout import H5Benchmark, sha256_array, verify_file

    array_name = _arrays(nb201_file)[index]
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
_FINE = {("sim_seconds",): (0.5,), ("cost_quantile",): (0.5,),
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
    tail = tuple(path[-2:]) if path[-1] in ("eval_batch", "eval_batches",
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


# ---- the command line -------------------------------------------------------------------------
def _cli_cases():
    run = ("run", "random", "--profile", "smoke", "--quiet")
    c = [
        (run + ("--jobs", "x"), "invalid int value"),
        (run + ("--jobs", "0"), "--jobs 0"),
        (run + ("--seeds", "0"), "--seeds 0"),
        (run + ("--seeds", "-1"), "--seeds -1"),
        (run + ("--cell-minutes", "nan"), "--cell-minutes nan"),
        (run + ("--proxy-minutes", "-inf"), "expected one argument"),
        (run + ("--proxy-minutes=-inf",), "--proxy-minutes -inf"),
        (run + ("--oneshot-minutes", "1e400"), "--oneshot-minutes inf"),
        (run + ("--retries", "-1"), "--retries -1"),
        (run + ("--executor", "spark"), "invalid choice"),
        (run + ("--address", "1.2.3.4:6379"), "--address is for --executor ray"),
        (run + ("--device", "tpu"), "--device tpu"),
        (run + ("--kind", "zero-cost"), "invalid choice"),
        (run + ("--benchmark", "nb202"), "unknown benchmark 'nb202'"),
        (run + ("--dataset", "cifar11"), "unknown dataset 'cifar11'"),
        (("run", "randm", "--profile", "smoke"), "unknown method 'randm'"),
        (("run", "--profile", "smoke"), "name methods to run"),
        (("run", "random", "--profile", "smok"), "unknown profile 'smok'"),
        (("run", "random", "--profile", "/no/such/p.json"), "not found"),
        (run + ("--store", ""), "--store ''"),
        (run + ("--store", "/no/such/dir/s.sqlite"), "does not exist"),
        (("data", "info", "nb2011"), "unknown benchmark"),
        (("data", "verify", "nb2011"), "unknown benchmark"),
        (("data", "verify", "nb201", "--file", "/no/such.h5"), "file not found"),
        (("data", "convert", "nb201", "--from", "/no/such/release.pth"), "no such file"),
        (("export", "--store", "/no/such.sqlite"), "not found"),
        (("export", "--store", "S", "--format", "xml"), "invalid choice"),
        (("leaderboard", "--store", "/no/such.sqlite"), "not found"),
        (("score", "nb201", "0", "--proxy", "synflw"), "unknown method 'synflw'"),
        (("score", "nb201", "99999999", "--proxy", "synflow"), "arch index 99999999 of nb201"),
        (("score", "nb201", "|bogus~0|", "--proxy", "synflow"), "bogus"),
        (("estimate", "--profile", "smoke", "--archs", "0"), "--steps and --archs"),
        (("frobnicate",), "invalid choice"),
        (("run", "random", "--profile", "/etc"), "unknown profile '/etc'"),
        (("run", "random", "--profile", "DIRJSON"), "cannot be read as text"),
        (("run", "random", "--profile", "BINARY"), "cannot be read as text"),
        (("leaderboard", "--store", "GOOD", "--out", "/etc/hostname"), "is a file, not a folder"),
        (("run", "random", "--profile", "smoke", "--out", "/proc/x/lb"), "cannot create it"),
    ]
    return [pytest.param(args, needle, id=" ".join(args)[:60]) for args, needle in c]


@pytest.mark.parametrize("args, needle", _cli_cases())
def test_cli(args, needle, tmp_path, harness_home, data_root):
    from tests.helpers import assert_one_line_error, run_cli

    binary = tmp_path / "p.json"
    binary.write_bytes(bytes(range(256)))
    good = tmp_path / "good.sqlite"
    from harness.core.store import open_store

    open_store(good).close()
    (tmp_path / "d.json").mkdir()
    subst = {"S": str(tmp_path / "s.sqlite"), "BINARY": str(binary), "GOOD": str(good),
             "DIRJSON": str(tmp_path / "d.json")}
    args = tuple(subst.get(a, a) for a in args)
    if "run" in args[:1] and "--store" not in args:
        args += ("--store", str(tmp_path / "s.sqlite"))
    proc = run_cli(*args, env={"NAS_HARNESS_HOME": str(harness_home),
                               "NAS_HARNESS_DATA": str(data_root)}, timeout=120)
    line = assert_one_line_error(proc, needle)
    assert "internal error" not in line
    assert has_fix(line), f"no fix offered: {line}"
    # nothing left behind: a refused run creates no store, no leaderboard folder
    left = sorted(p.name for p in tmp_path.iterdir()
                  if p.name not in ("p.json", "good.sqlite", "d.json"))
    assert not left, f"left behind: {left}"


def test_a_flipped_array_fails_the_run_and_stores_no_row(tmp_path, nb201, data_root):
    """The run reads the search column first: it is refused on that run, nothing stored."""
    from tests.helpers import run_cli

    home = tmp_path / "home"
    home.mkdir()
    src = nb201.h5.path
    p = _copy(src, home / "nb201.h5")
    with h5py.File(p, "r+") as f:  # bytes edited under the recorded checksum
        ds = f["cifar10-valid/valid_acc"]
        data = ds[...]
        data.reshape(-1)[7] += 1.0
        ds[...] = data
    store = tmp_path / "s.sqlite"
    proc = run_cli("run", "random", "--profile", "smoke", "--benchmark", "nb201", "--dataset",
                   "cifar10", "--seeds", "2", "--store", str(store), "--quiet",
                   env={"NAS_HARNESS_HOME": str(home), "NAS_HARNESS_DATA": str(data_root)},
                   timeout=300)
    assert proc.returncode != 0
    assert "array /cifar10-valid/valid_acc does not match its recorded sha256" in proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    if store.exists():
        import sqlite3

        n = sqlite3.connect(str(store)).execute("SELECT COUNT(*) FROM results").fetchone()[0]
        assert n == 0
