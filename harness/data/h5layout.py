"""HDF5 layout v1: the one writer and one reader that every benchmark adapter uses.

Layout (documented in docs/hdf5-layout.md; bump SCHEMA_VERSION on any change)::

    /                      attrs: schema_version, benchmark, source (JSON list of
                           {name, sha256, bytes, provenance}), converter_version, cite,
                           created, extra (JSON)
    /archs/id              (A,)   utf-8 canonical architecture ids, official index order
    /archs/encoding        (A, E) int8 fixed-width integer encoding
    /archs/iso_class       (A,)   int32 index of the isomorphism-class representative
    /<dataset>/<metric>    (A, S, T) float32; S seeds (attr ``seeds``; -1 = mean over the
                           source's seeds), T recorded epochs (attr ``epochs``); NaN = missing
    /<dataset>/<metric>_mask (A, S) bool, present when some seeds are missing
    /<dataset>/cost/<name> (A,)   float64 (params, flops, train seconds, latency ...)

Every array carries attr ``sha256`` (of its little-endian C-order bytes) and the file has a
sidecar ``<file>.sha256`` with the digest of the whole file, so ``data verify`` detects
truncation and bit flips. Files are written to a temporary name and renamed atomically.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from harness.core.errors import ChecksumError, DataError, DataMissingError, SchemaVersionError
from harness.data.files import listed_sha256, remove_stale_tmps

SCHEMA_VERSION = 1
_COST = "cost"


@dataclass
class MetricArray:
    """A metric to write: values shaped (archs, seeds, epochs) plus its axes."""

    values: np.ndarray
    seeds: list[int] = field(default_factory=lambda: [-1])
    epochs: list[int] = field(default_factory=lambda: [0])
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=np.float32)
        if v.ndim == 1:
            v = v[:, None, None]
        elif v.ndim == 2:
            v = v[:, :, None]
        if v.shape[1] != len(self.seeds) or v.shape[2] != len(self.epochs):
            raise ValueError(
                f"metric shape {v.shape} does not match {len(self.seeds)} seeds x "
                f"{len(self.epochs)} epochs"
            )
        self.values = v


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def source_entry(path: str | os.PathLike, name: str | None = None,
                 provenance: str | None = None) -> dict[str, Any]:
    """The ``source`` record of one raw file: name, sha256, size and provenance text (the
    PROVENANCE.txt beside it unless ``provenance`` is given). A directory release records
    ``"directory"`` and 0 bytes."""
    path = Path(path)
    is_file = path.is_file()
    digest = sha256_file(path) if is_file else "directory"
    if provenance is None:
        prov = path.parent / "PROVENANCE.txt"
        full = prov.read_text() if prov.exists() else ""
        want = listed_sha256(full, path.name)
        if is_file and want and want != digest:
            raise ChecksumError(f"raw file {path}: sha256 {digest[:12]}... differs from the "
                                f"{want[:12]}... its PROVENANCE.txt records (changed or "
                                "damaged); restore the original file and convert again")
        provenance = full[:4000]
    return {"name": name or path.name, "sha256": digest,
            "bytes": path.stat().st_size if is_file else 0, "provenance": provenance}


def sha256_array(a: np.ndarray) -> str:
    """Hex sha256 of an array's little-endian C-order bytes (strings: utf-8, NUL-joined)."""
    a = np.asarray(a)
    if a.dtype.kind in "OUS":
        data = "\0".join(x.decode() if isinstance(x, bytes) else str(x) for x in a.ravel())
        return hashlib.sha256(data.encode()).hexdigest()
    a = np.ascontiguousarray(a)
    if a.dtype.byteorder == ">":
        a = a.byteswap().view(a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def sidecar(path: str | os.PathLike) -> Path:
    """Path of the whole-file checksum sidecar of an HDF5 file."""
    return Path(str(path) + ".sha256")


def _put(group: h5py.Group, name: str, data: np.ndarray, **attrs: Any) -> h5py.Dataset:
    data = np.asarray(data)
    kw: dict[str, Any] = {}
    if data.dtype.kind in "OU":
        data = np.asarray([str(x) for x in data.ravel()], dtype=object).reshape(data.shape)
        ds = group.create_dataset(name, data=data, dtype=h5py.string_dtype("utf-8"))
    else:
        if data.size >= 1024:
            chunks = (min(data.shape[0], 4096),) + data.shape[1:]
            kw = dict(chunks=chunks, compression="gzip", compression_opts=4, shuffle=True)
        ds = group.create_dataset(name, data=data, **kw)
    ds.attrs["sha256"] = sha256_array(data)
    for k, v in attrs.items():
        ds.attrs[k] = v
    return ds


def write_benchmark(
    path: str | os.PathLike,
    *,
    benchmark: str,
    arch_ids: np.ndarray,
    encoding: np.ndarray,
    iso_class: np.ndarray,
    metrics: Mapping[tuple[str, str], MetricArray],
    costs: Mapping[tuple[str, str], np.ndarray],
    sources: list[dict[str, Any]],
    converter_version: str,
    cite: str,
    extra: dict[str, Any] | None = None,
    dataset_attrs: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """Write one benchmark file in layout v1 atomically; return the file's sha256.

    ``metrics`` maps (dataset, metric) to a :class:`MetricArray`; ``costs`` maps
    (dataset, cost name) to an (archs,) array. The sidecar checksum is written last.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_tmps(path)
    n = len(arch_ids)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        _write(tmp, benchmark, arch_ids, encoding, iso_class, metrics, costs, sources,
               converter_version, cite, extra, dataset_attrs, n)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed conversion leaves nothing behind
        raise
    os.replace(tmp, path)
    digest = sha256_file(path)
    sidecar(path).write_text(json.dumps({"sha256": digest, "bytes": path.stat().st_size}) + "\n")
    return digest


def _write(tmp: Path, benchmark, arch_ids, encoding, iso_class, metrics, costs, sources,
           converter_version, cite, extra, dataset_attrs, n: int) -> None:
    with h5py.File(tmp, "w") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["benchmark"] = benchmark
        f.attrs["source"] = json.dumps(sources)
        f.attrs["converter_version"] = converter_version
        f.attrs["cite"] = cite
        f.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        f.attrs["extra"] = json.dumps(extra or {})
        g = f.create_group("archs")
        _put(g, "id", np.asarray(arch_ids, dtype=object))
        _put(g, "encoding", np.asarray(encoding, dtype=np.int8))
        _put(g, "iso_class", np.asarray(iso_class, dtype=np.int32))
        for (dataset, metric), m in metrics.items():
            if m.values.shape[0] != n:
                raise ValueError(f"{dataset}/{metric}: {m.values.shape[0]} rows, expected {n}")
            grp = f.require_group(dataset)
            _put(grp, metric, m.values, seeds=np.asarray(m.seeds, dtype=np.int64),
                 epochs=np.asarray(m.epochs, dtype=np.int64),
                 **{k: (json.dumps(v) if isinstance(v, (dict, list)) else v)
                    for k, v in m.attrs.items()})
            missing = np.isnan(m.values).all(axis=2)
            if missing.any() and not missing.all(axis=1).all():
                _put(grp, metric + "_mask", ~missing)
        for (dataset, name), arr in costs.items():
            arr = np.asarray(arr, dtype=np.float64)
            if arr.shape != (n,):
                raise ValueError(f"{dataset}/cost/{name}: shape {arr.shape}, expected ({n},)")
            _put(f.require_group(dataset).require_group(_COST), name, arr)
        for dataset, attrs in (dataset_attrs or {}).items():
            grp = f.require_group(dataset)
            for k, v in attrs.items():
                grp.attrs[k] = json.dumps(v) if isinstance(v, (dict, list)) else v
        f.attrs["content_sha256"] = _content_digest(f)


def _content_digest(f: h5py.File) -> str:
    """Digest of every array's sha256 and the sources: identical for identical content,
    whatever the HDF5 library or creation time (results are keyed by it)."""
    items: list[str] = []
    f.visititems(lambda n, o: items.append(f"{n}={o.attrs['sha256']}")
                 if isinstance(o, h5py.Dataset) else None)
    items.append("source=" + str(f.attrs["source"]))
    items.append("converter=" + str(f.attrs["converter_version"]))
    return hashlib.sha256("\n".join(sorted(items)).encode()).hexdigest()


class H5Benchmark:
    """Lazy reader of a layout-v1 file. Arrays are read on first use and kept in memory."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise DataMissingError(
                f"{self.path}: file not found; run 'python -m harness data convert' to create it"
            )
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as exc:
            raise DataError(
                f"{self.path}: not a readable HDF5 file ({_short(exc)}); it is truncated or "
                "corrupt: delete it and convert again ('python -m harness data convert')"
            ) from None
        version = int(self._f.attrs.get("schema_version", -1))
        if version != SCHEMA_VERSION:
            self._f.close()
            raise SchemaVersionError(
                f"{self.path}: layout version {version}, this harness reads version "
                f"{SCHEMA_VERSION}; re-convert it with this version "
                "('python -m harness data convert')"
            )
        self._cache: dict[tuple[str, ...], np.ndarray] = {}
        self._meta: dict[str, Any] = {}
        self._check_content_digest()

    def _check_content_digest(self) -> None:
        """The file's content digest (which keys every result row) recomputed from the
        arrays' recorded checksums: an array added, removed or re-signed is caught at open;
        each array's bytes are checked against its checksum when first read (:meth:`array`)."""
        try:
            got = _content_digest(self._f)
            want = str(self._f.attrs["content_sha256"])
        except (KeyError, OSError) as exc:
            self._f.close()
            raise ChecksumError(f"{self.path}: checksums missing or unreadable ({_short(exc)});"
                                " the file is damaged: delete it and convert again ('python "
                                "-m harness data convert')") from None
        if got != want:
            self._f.close()
            raise ChecksumError(f"{self.path}: content digest {got[:12]}... does not match the "
                                f"recorded {want[:12]}... (arrays added, removed or edited); "
                                "delete it and convert again ('python -m harness data "
                                "convert')")

    # ---- metadata -------------------------------------------------------------------------
    @property
    def attrs(self) -> dict[str, Any]:
        """Root attributes, with JSON-encoded ones decoded."""
        out: dict[str, Any] = {}
        for k, v in self._f.attrs.items():
            if k in ("source", "extra"):
                v = json.loads(v)
            elif isinstance(v, np.generic):
                v = v.item()
            out[k] = v
        return out

    @property
    def num_archs(self) -> int:
        if "num_archs" not in self._meta:
            self._meta["num_archs"] = int(self._f["archs/encoding"].shape[0])
        return self._meta["num_archs"]

    def datasets(self) -> list[str]:
        if "datasets" not in self._meta:
            self._meta["datasets"] = [k for k in self._f.keys() if k != "archs"]
        return self._meta["datasets"]

    def metrics(self, dataset: str) -> list[str]:
        key = "metrics:" + dataset
        if key not in self._meta:
            g = self._f[dataset]
            self._meta[key] = [k for k, v in g.items()
                               if isinstance(v, h5py.Dataset) and not k.endswith("_mask")]
        return self._meta[key]

    def costs(self, dataset: str) -> list[str]:
        g = self._f[dataset]
        return list(g[_COST].keys()) if _COST in g else []

    def metric_attrs(self, dataset: str, metric: str) -> dict[str, Any]:
        out = {}
        for k, v in self._f[dataset][metric].attrs.items():
            out[k] = v.tolist() if isinstance(v, np.ndarray) else (
                v.item() if isinstance(v, np.generic) else v)
        return out

    def dataset_attrs(self, dataset: str) -> dict[str, Any]:
        out = {}
        for k, v in self._f[dataset].attrs.items():
            if isinstance(v, str) and v[:1] in "[{":
                v = json.loads(v)
            out[k] = v
        return out

    # ---- arrays ---------------------------------------------------------------------------
    def array(self, *path: str) -> np.ndarray:
        """Read (and cache) the array at ``/path``."""
        if len(path) == 2 and path[0] != "archs":  # /<dataset>/<metric>: a result column
            from harness.core.guard import check_read

            check_read(path[0], path[1])
        arr = self._cache.get(path)
        if arr is None:
            name = "/".join(path)
            try:
                node = self._f[name]
                arr = node.asstr()[...] if h5py.check_string_dtype(node.dtype) else node[...]
            except (KeyError, OSError) as exc:
                raise ChecksumError(f"{self.path}: array /{name} unreadable ({_short(exc)}); the "
                                    "file is damaged: delete it and convert again") from None
            if sha256_array(arr) != node.attrs.get("sha256"):  # verified on first read
                raise ChecksumError(f"{self.path}: array /{name} does not match its recorded "
                                    "sha256 (file corrupted or edited); delete it and convert "
                                    "again ('python -m harness data convert')")
            self._cache[path] = arr
        return arr

    def close(self) -> None:
        self._f.close()

    def walk_arrays(self):
        """Yield (name, dataset) for every array in the file."""
        out = []
        self._f.visititems(lambda n, o: out.append((n, o)) if isinstance(o, h5py.Dataset) else None)
        return out


def verify_file(path: str | os.PathLike, benchmark: str | None = None) -> dict[str, Any]:
    """Check a converted file: whole-file sha256 against its sidecar, the content digest
    recomputed from the arrays, every array's bytes, and (given ``benchmark``) that the file
    holds that benchmark.

    Returns a summary dict; raises a :class:`DataError` subclass on the first problem.
    """
    path = Path(path)
    if not path.exists():
        raise DataMissingError(f"{path}: file not found; convert it first "
                               "('python -m harness data convert')")
    side = sidecar(path)
    if not side.exists():
        raise ChecksumError(f"{path}: no checksum sidecar {side.name}; the file was not written "
                            "by 'data convert' or the sidecar was removed: convert again")
    try:
        want = json.loads(side.read_text())
        want = {"sha256": str(want["sha256"]), "bytes": int(want["bytes"])}
    except (ValueError, KeyError, TypeError, OSError):
        raise ChecksumError(f"{path}: checksum sidecar {side.name} is empty or malformed; "
                            "delete both files and convert again ('python -m harness data "
                            "convert')") from None
    size = path.stat().st_size
    if size != want["bytes"]:
        raise ChecksumError(f"{path}: {size} bytes, expected {want['bytes']} (truncated or "
                            "appended to); delete it and run 'python -m harness data convert'")
    got = sha256_file(path)
    if got != want["sha256"]:
        raise ChecksumError(f"{path}: sha256 {got[:12]}... does not match the recorded "
                            f"{want['sha256'][:12]}... (file corrupted); delete it and run "
                            "'python -m harness data convert'")
    bench = H5Benchmark(path)  # recomputes the content digest
    try:
        held = str(bench._f.attrs.get("benchmark", "?"))
        if benchmark is not None and held != benchmark:
            raise ChecksumError(f"{path}: holds benchmark '{held}', not '{benchmark}'; pass the "
                                f"{benchmark} file, or run 'data verify {held}'")
        n = 0
        for name, ds in bench.walk_arrays():
            data = ds.asstr()[...] if h5py.check_string_dtype(ds.dtype) else ds[...]
            if sha256_array(data) != ds.attrs.get("sha256"):
                raise ChecksumError(f"{path}: array /{name} does not match its recorded sha256 "
                                    "(file corrupted); convert again")
            n += 1
    finally:
        bench.close()
    return {"path": str(path), "sha256": got, "bytes": size, "arrays_checked": n}


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120]
