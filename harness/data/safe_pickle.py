"""A restricted unpickler for the few third-party pickles a converter must read.

Loading never unpickles: only converters call this, once, and only classes on an allowlist
can be constructed (plain containers, numpy arrays/scalars, and a pandas DataFrame, which
is rebuilt as ``{column: ndarray}`` without importing pandas). Anything else raises
:class:`~harness.core.errors.DataError` instead of executing code from the file.
"""

from __future__ import annotations

import bz2
import codecs
import collections
import importlib
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import DataError


class _PandasIndex:
    """Stand-in for pandas Index/RangeIndex, built from ``_new_Index(cls, state)``."""

    def __init__(self, kind: str, state: dict):
        self.kind = kind
        self.state = state

    def values(self) -> np.ndarray:
        if self.kind == "RangeIndex":
            s = self.state
            return np.arange(s.get("start", 0), s["stop"], s.get("step", 1))
        return np.asarray(self.state["data"])


class _IndexClass:
    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, *a, **k):  # pragma: no cover - never called by pickles we accept
        raise DataError("unexpected pandas Index construction in pickle")


def _new_index(cls: _IndexClass, state: dict) -> _PandasIndex:
    return _PandasIndex(cls.kind, state)


class _BlockManager:
    """Stand-in for pandas' BlockManager: keeps the pickled state."""

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _DataFrame:
    """Stand-in for pandas.DataFrame; :func:`frame_to_columns` turns it into a dict."""

    def __setstate__(self, state: Any) -> None:
        self.state = state


def frame_to_columns(df: Any) -> dict[str, np.ndarray]:
    """Rebuild a pickled DataFrame (pandas >= 0.14 block layout) as {column: 1-D array}."""
    if not isinstance(df, _DataFrame):
        raise DataError("pickle does not hold a pandas DataFrame")
    st = df.state
    mgr = st.get("_mgr") or st.get("_data") if isinstance(st, dict) else None
    if not isinstance(mgr, _BlockManager):
        raise DataError("unsupported DataFrame pickle layout (no block manager)")
    s = mgr.state
    extra = s[3] if isinstance(s, tuple) and len(s) >= 4 else None
    if not isinstance(extra, dict) or "0.14.1" not in extra:
        raise DataError("unsupported DataFrame pickle layout (pre-0.14.1 block state)")
    layout = extra["0.14.1"]
    axes = layout["axes"]
    columns = axes[0].values()
    nrows = len(axes[1].values())
    out: dict[str, np.ndarray] = {}
    for block in layout["blocks"]:
        values = np.asarray(block["values"])
        locs = block["mgr_locs"]
        if isinstance(locs, slice):
            locs = range(*locs.indices(len(columns)))
        values = values.reshape(len(list(locs)), nrows) if values.ndim == 2 else values[None]
        for row, col in zip(values, locs, strict=True):
            out[str(columns[col])] = np.asarray(row)
    return {str(c): out[str(c)] for c in columns}


def _numpy_attr(module: str, name: str):
    """``numpy.<module>.<name>`` under numpy 2 (``numpy._core``) or 1 (``numpy.core``)."""
    for prefix in ("numpy._core.", "numpy.core."):
        try:
            return getattr(importlib.import_module(prefix + module), name)
        except (ImportError, AttributeError):
            continue
    raise DataError(f"numpy has no {module}.{name}")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("builtins", "slice"): slice,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): codecs.encode,  # how protocol-2 pickles from Python 3 store bytes
    ("collections", "defaultdict"): collections.defaultdict,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("pandas.core.frame", "DataFrame"): _DataFrame,
    ("pandas.core.internals.managers", "BlockManager"): _BlockManager,
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    ("pandas.core.indexes.base", "Index"): _IndexClass("Index"),
    ("pandas.core.indexes.range", "RangeIndex"): _IndexClass("RangeIndex"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that constructs only allowlisted classes (see module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _ALLOWED:
            return _ALLOWED[key]
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in (
            "_reconstruct", "scalar"):
            return _numpy_attr("multiarray", name)
        if module in ("numpy.core.numeric", "numpy._core.numeric") and name == "_frombuffer":
            return _numpy_attr("numeric", name)
        raise DataError(
            f"refusing to unpickle {module}.{name}: not on the converter's allowlist "
            "(the file is not the expected release, or it was tampered with)"
        )


def loads(data: bytes, encoding: str = "ASCII") -> Any:
    """Unpickle bytes with :class:`RestrictedUnpickler` (``encoding='bytes'`` for the
    Python-2 pickles of the official CIFAR batches)."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
    except DataError:
        raise
    except Exception as exc:  # malformed or truncated pickle
        raise DataError(f"cannot read pickle ({type(exc).__name__}: {exc}); the file is "
                        "truncated or not the expected release") from None


def load_path(path: str | Path, encoding: str = "ASCII") -> Any:
    """Load a ``.pickle``/``.pkl``/``.pd`` file, or a bz2-compressed ``.pbz2`` one."""
    raw = Path(path).read_bytes()
    if str(path).endswith(".pbz2"):
        try:
            raw = bz2.decompress(raw)
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a valid bz2 stream ({exc}); the file is truncated or "
                            "corrupt: download it again") from None
    try:
        return loads(raw, encoding)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def load_frame(path: str | Path) -> dict[str, Any]:
    """The columns of the pandas DataFrame pickled in ``path`` (errors name the file)."""
    obj = load_path(path)
    try:
        return frame_to_columns(obj)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
