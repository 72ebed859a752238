"""Benchmark adapters: one module per benchmark, all loading through :class:`Benchmark`.

:func:`load_benchmark` opens the converted HDF5 file from the cache (``NAS_HARNESS_HOME``),
converting it first from the raw-data root when it is missing or was written by an older
converter.
"""

from __future__ import annotations

import contextlib
import fcntl
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.base import Benchmark
from harness.core import config
from harness.core.errors import DataError, DataMissingError, HarnessError, unknown
from harness.data.h5layout import H5Benchmark, verify_file

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchmarkSpec:
    """How to find, convert and open one benchmark."""

    name: str
    description: str
    converter_version: str
    shared_present: Callable[[Path | None], bool]
    convert_shared: Callable[[Path, Path, Progress | None], str]
    convert_official: Callable[[Path, Path, Progress | None], str]
    official_files: str
    space_factory: Callable
    model_builder: Callable | None = None
    #: dataset -> (classes of the network's head or None, input resolution in pixels)
    model_shape: Callable[[str], tuple[int | None, int]] | None = None


def _nb201_spec() -> BenchmarkSpec:
    from adapters import nb201, nb201_official, nb201_space

    def build(encoding, dataset):
        from adapters.nb201_model import NB201Network

        return NB201Network(list(encoding), nb201_space.DATASET_SHAPES[dataset][0])

    return BenchmarkSpec(
        name="nb201",
        description="NAS-Bench-201 / NATS-Bench topology space: 15,625 cells, 4 datasets",
        converter_version=nb201.CONVERTER_VERSION,
        shared_present=nb201.shared_data_present,
        convert_shared=nb201.convert_shared,
        convert_official=nb201_official.convert_official,
        official_files="NAS-Bench-201-v1_1-096897.pth, NATS-tss-v1_0-3ffb9.pickle.pbz2 or "
                       "NATS-tss-v1_0-3ffb9-simple/",
        space_factory=nb201_space.NB201Space,
        model_builder=build,
        model_shape=lambda ds: nb201_space.DATASET_SHAPES[ds],
    )


def _tnb101_spec(space: str) -> BenchmarkSpec:
    from adapters import tnb101
    from adapters.encoded_space import CellSpace, EncodedSpace

    n = {"micro": "4,096 cells", "macro": "3,256 macro skeletons"}[space]

    def build(encoding, dataset):
        from adapters.tnb101_model import TNB101Backbone

        return TNB101Backbone(tnb101.arch_string(space, encoding),
                              tnb101.NUM_CLASSES.get(dataset))
    return BenchmarkSpec(
        name=f"tnb101-{space}",
        description=f"TransNAS-Bench-101 {space}: {n}, 7 tasks, training times",
        converter_version=tnb101.CONVERTER_VERSION,
        shared_present=tnb101.shared_data_present,
        convert_shared=lambda root, out, progress=None: tnb101.convert_shared(
            root, out, space, progress),
        convert_official=lambda path, out, progress=None: tnb101.convert_official(
            path, out, space, progress),
        official_files="transnas-bench_v10141024.pth",
        space_factory=CellSpace if space == "micro" else EncodedSpace,
        model_builder=build,
        model_shape=lambda ds: (tnb101.NUM_CLASSES.get(ds), tnb101.INPUT_RESOLUTION),
    )


def _nb101_spec() -> BenchmarkSpec:
    from adapters import nb101, nb101_space

    def build(encoding, dataset):
        from adapters.nb101_model import NB101Network

        return NB101Network(*nb101_space.decode(encoding))

    return BenchmarkSpec(
        name="nb101",
        description="NAS-Bench-101: 423,624 cells, CIFAR-10, 4 epoch budgets x 3 repeats",
        converter_version=nb101.CONVERTER_VERSION,
        shared_present=nb101.shared_data_present,
        convert_shared=nb101.convert_shared,
        convert_official=nb101.convert_official,
        official_files="nasbench_only108.tfrecord or nasbench_full.tfrecord (no full table "
                       "in the shared data)",
        space_factory=nb101_space.NB101Space,
        model_builder=build,
        model_shape=lambda ds: (10, 32),
    )


_SPECS: dict[str, Callable[[], BenchmarkSpec]] = {
    "nb201": _nb201_spec,
    "nb101": _nb101_spec,
    "tnb101-micro": lambda: _tnb101_spec("micro"),
    "tnb101-macro": lambda: _tnb101_spec("macro"),
}


def names() -> list[str]:
    return list(_SPECS)


def spec(name: str) -> BenchmarkSpec:
    if name not in _SPECS:
        raise unknown("benchmark", name, _SPECS)
    return _SPECS[name]()


def cache_path(name: str) -> Path:
    """Where the converted file of benchmark ``name`` lives."""
    spec(name)
    return config.cache_home() / f"{name}.h5"


@contextlib.contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def converted_version(path: Path) -> str | None:
    """The converter version recorded in a converted file, or None if unreadable."""
    try:
        h5 = H5Benchmark(path)
    except Exception:
        return None
    try:
        return str(h5.attrs.get("converter_version"))
    finally:
        h5.close()


@contextlib.contextmanager
def reading_raw(name: str, src: Path | str, expected: str):
    """Around a converter: a raw file that is truncated, empty, garbled or not the expected
    one becomes one line naming the benchmark, the source and the fix, never an internal
    error (the converter's own one-line errors pass through unchanged)."""
    try:
        yield
    except HarnessError as exc:
        msg = str(exc) if str(src) in str(exc) else f"{name} raw data under {src}: {exc}"
        if not any(w in msg for w in ("convert", "restore", "download", "delete")):
            msg += f"; restore {expected} and convert again"
        raise type(exc)(msg) from None
    except (ValueError, KeyError, IndexError, StopIteration, EOFError, TypeError,
            AttributeError, RuntimeError, OSError, zipfile.BadZipFile,
            pickle.UnpicklingError) as exc:
        what = str(exc).splitlines()[0][:120] if str(exc) else ""
        raise DataError(f"{name}: raw data under {src} cannot be read ({type(exc).__name__}"
                        f"{': ' + what if what else ''}); a file is truncated, empty or not "
                        f"the expected one: restore {expected} and convert again") from None


def ensure_converted(name: str, progress: Progress | None = None, force: bool = False) -> Path:
    """Return the cache file of ``name``, converting it from the data root if needed."""
    sp = spec(name)
    out = cache_path(name)
    with _lock(out):
        if not force and out.exists() and converted_version(out) == sp.converter_version:
            return out
        root = config.data_root()
        if not sp.shared_present(root):
            where = f"the data root {root}" if root else "no data root (NAS_HARNESS_DATA unset)"
            raise DataMissingError(
                f"{name} is not converted yet and {where} lacks its raw files; set "
                f"NAS_HARNESS_DATA (or --data-root) to the shared data folder, or run "
                f"'python -m harness data convert {name} --from PATH' with {sp.official_files}")
        with reading_raw(name, root, f"its folders in the shared data ({sp.official_files} "
                         "for the official release)"):
            sp.convert_shared(root, out, progress)
        verify_file(out, name)  # the first open after conversion checks every checksum
    return out


def convert_from(name: str, src: Path, out: Path, progress: Progress | None = None) -> str:
    """Convert ``src`` — an official release (file or folder) or a raw-data folder — into
    ``out`` and verify it; every unreadable input is one line naming the file and the fix.
    Returns the content digest."""
    sp = spec(name)
    with reading_raw(name, src, f"the original {sp.official_files}"):
        if src.is_dir() and sp.shared_present(src):
            digest = sp.convert_shared(src, out, progress)
        else:
            digest = sp.convert_official(src, out, progress)
    verify_file(out, name)
    return digest


def load_benchmark(name: str, progress: Progress | None = None) -> Benchmark:
    """Open benchmark ``name`` (converting it on first use)."""
    sp = spec(name)
    path = ensure_converted(name, progress)
    return Benchmark(path, sp.space_factory, sp.model_builder, sp.model_shape)


def open_file(name: str, path: Path) -> Benchmark:
    """Open an explicit converted file of benchmark ``name``."""
    sp = spec(name)
    return Benchmark(path, sp.space_factory, sp.model_builder, sp.model_shape)
