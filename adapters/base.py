"""The ``Benchmark`` interface: a converted HDF5 file plus its search space.

Queries are vectorised over arch indices (ints, official order) or canonical id strings.
Values are the layout's float32; ``seed=None`` averages the available seeds (NaN-aware),
``epoch=None`` takes the last recorded epoch of the metric's schedule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from harness.core.errors import InvalidArchError, unknown
from harness.core.guard import check_read
from harness.data.h5layout import H5Benchmark


class SearchSpace(Protocol):
    """Search-space operations every adapter provides (indices in official order)."""

    size: int
    encodings: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray: ...
    def mutate(self, idx: int, rng: np.random.Generator) -> int: ...
    def neighbours(self, idx: int) -> np.ndarray: ...


class _ArchIds(dict):
    """Arch id string -> index, filled from the table on the first lookup."""

    def __init__(self, bench: Benchmark):
        super().__init__()
        self._bench: Benchmark | None = bench

    def __missing__(self, key: Any) -> int:
        if self._bench is not None:
            bench, self._bench = self._bench, None
            self.update((s, i) for i, s in enumerate(bench.archs.tolist()))
            if key in self:
                return dict.__getitem__(self, key)
        raise KeyError(key)


class Benchmark:
    """A tabular benchmark read lazily from a layout-v1 file."""

    def __init__(self, path: str | Path, space_factory, model_builder=None, model_shape=None):
        self.h5 = H5Benchmark(path)
        self.path = Path(path)
        attrs = self.h5.attrs
        self.name: str = attrs["benchmark"]
        self.extra: dict[str, Any] = attrs.get("extra", {})
        self.source: list[dict[str, Any]] = attrs.get("source", [])
        #: identity of the data content (keys results; stable across re-conversions)
        self.content_sha256: str = str(attrs.get("content_sha256", ""))
        self.tasks: tuple[str, ...] = tuple(self.extra.get("tasks") or self.h5.datasets())
        self._space_factory = space_factory
        self._space = None
        self._model_builder = model_builder
        self._model_shape = model_shape
        self._ids = _ArchIds(self)
        self._matrix: dict[tuple, np.ndarray] = {}

    # ---- identity ---------------------------------------------------------------------------
    @property
    def num_archs(self) -> int:
        return self.h5.num_archs

    @property
    def archs(self) -> np.ndarray:
        """Canonical arch id strings in official index order."""
        return self.h5.array("archs", "id")

    @property
    def iso_class(self) -> np.ndarray:
        return self.h5.array("archs", "iso_class")

    @property
    def datasets(self) -> list[str]:
        return self.h5.datasets()

    def metrics(self, dataset: str) -> list[str]:
        self._check_dataset(dataset)
        return self.h5.metrics(dataset)

    @property
    def space(self) -> SearchSpace:
        if self._space is None:
            import inspect

            kw = {}
            if "ids" in inspect.signature(self._space_factory).parameters:
                kw["ids"] = self.archs  # e.g. NB101 finds cells by their official hash
            self._space = self._space_factory(self.h5.array("archs", "encoding"), **kw)
        return self._space

    def index_of(self, arch: str | int) -> int:
        """The index of one arch (an int in range, or a canonical id string): one dict read,
        as fast as the NB201 API's ``query_index_by_arch`` (``tests/bench``)."""
        try:
            return self._ids[arch]
        except (KeyError, TypeError):
            pass
        if isinstance(arch, str):
            raise self._unknown_id(arch)
        if isinstance(arch, bool) or not isinstance(arch, (int, np.integer)):
            raise InvalidArchError(f"arch {arch!r} of {self.name}: give an integer index or an "
                                   "official arch string")
        if not 0 <= arch < self.num_archs:
            raise self._out_of_range(int(arch))
        return int(arch)

    def _unknown_id(self, arch: Any) -> InvalidArchError:
        return InvalidArchError(f"{arch!r} is not an architecture of {self.name}; ids are the "
                                "official arch strings (see 'data info')")

    def _out_of_range(self, i: int) -> InvalidArchError:
        return InvalidArchError(f"arch index {i} of {self.name} is out of range "
                                f"0..{self.num_archs - 1}; give an index in range or an "
                                "official arch string")

    def index(self, ids: Any) -> np.ndarray:
        """Arch indices for ints or canonical id strings (InvalidArchError if unknown)."""
        if isinstance(ids, str):
            return np.array([self.index_of(ids)], dtype=np.int64)
        arr = np.atleast_1d(np.asarray(ids))
        if arr.dtype.kind in "iu":
            if arr.size and (arr.min() < 0 or arr.max() >= self.num_archs):
                raise self._out_of_range(int(arr[(arr < 0) | (arr >= self.num_archs)][0]))
            return arr.astype(np.int64, copy=False)
        try:
            return np.fromiter((self._ids[str(s)] for s in arr.ravel()), dtype=np.int64)
        except KeyError as exc:
            raise self._unknown_id(exc.args[0]) from None

    # ---- queries ----------------------------------------------------------------------------
    def _check_dataset(self, dataset: str) -> None:
        if dataset not in self.h5.datasets():
            raise unknown(f"dataset of {self.name}", dataset, self.h5.datasets())

    def _column(self, dataset: str, metric: str, epoch: int | None, seed: int | None
                ) -> np.ndarray:
        check_read(dataset, metric)  # a method's code may read its search metric only
        key = (dataset, metric, epoch, seed)
        col = self._matrix.get(key)
        if col is not None:
            return col
        self._check_dataset(dataset)
        if metric not in self.h5.metrics(dataset):
            raise unknown(f"metric of {self.name}/{dataset}", metric, self.h5.metrics(dataset))
        arr = self.h5.array(dataset, metric)
        attrs = self.h5.metric_attrs(dataset, metric)
        epochs = list(attrs["epochs"])
        if epoch is None:
            t = len(epochs) - 1
        elif epoch in epochs:
            t = epochs.index(epoch)
        else:
            raise unknown(f"epoch of {dataset}/{metric}", str(epoch), map(str, epochs))
        sl = arr[:, :, t]
        if seed is None:
            with np.errstate(invalid="ignore"):
                counts = (~np.isnan(sl)).sum(axis=1)
                col = np.where(counts > 0, np.nansum(sl, axis=1) / np.maximum(counts, 1), np.nan)
            col = col.astype(np.float32)
        else:
            seeds = list(attrs["seeds"])
            if seed not in seeds:
                raise unknown(f"seed of {dataset}/{metric}", str(seed), map(str, seeds))
            col = np.ascontiguousarray(sl[:, seeds.index(seed)])
        self._matrix[key] = col
        return col

    def query(self, ids: Any, metric: str, dataset: str, epoch: int | None = None,
              seed: int | None = None) -> np.ndarray:
        """Vectorised lookup of ``metric`` on ``dataset`` for the given archs."""
        col = self._column(dataset, metric, epoch, seed)
        if isinstance(ids, np.ndarray) and ids.dtype == np.int64:
            return col[ids]
        return col[self.index(ids)]

    def cost(self, ids: Any, name: str, dataset: str) -> np.ndarray:
        """A cost column (params, flops, hw_*, train_seconds ...)."""
        self._check_dataset(dataset)
        names = self.h5.costs(dataset)
        if name not in names:
            raise unknown(f"cost of {self.name}/{dataset}", name, names)
        return self.h5.array(dataset, "cost", name)[self.index(ids)]

    def train_time(self, ids: Any, dataset: str, epoch: int | None = None) -> np.ndarray | None:
        """Simulated training seconds per arch, or None when the table has no times."""
        names = self.h5.costs(dataset)
        if "train_seconds" not in names:
            return None
        secs = self.cost(ids, "train_seconds", dataset)
        if epoch is not None:
            total = max(self.h5.metric_attrs(dataset, self.h5.metrics(dataset)[0])["epochs"])
            secs = secs * (epoch / total)
        return secs

    # ---- search space -----------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.space.sample(rng, n)

    def mutate(self, idx: int, rng: np.random.Generator) -> int:
        return self.space.mutate(idx, rng)

    def neighbours(self, idx: int) -> np.ndarray:
        return self.space.neighbours(idx)

    def output_depends_on_input(self, ids: Any) -> np.ndarray:
        """Per arch: False when its network's output cannot depend on the input (a cell with
        no input-to-output path); True where the space cannot tell (every arch counts)."""
        idx = self.index(ids)
        connected = getattr(self.space, "connected", None)
        if connected is None:
            return np.ones(len(idx), dtype=bool)
        return np.array([connected(int(i)) for i in idx], dtype=bool)

    def encode(self, ids: Any) -> np.ndarray:
        return self.h5.array("archs", "encoding")[self.index(ids)]

    def build_model(self, arch: Any, dataset: str):
        """A torch model of the arch for ``dataset`` (where the space defines a network)."""
        if self._model_builder is None:
            raise InvalidArchError(f"{self.name} has no network definition to build")
        idx = int(self.index(arch)[0])
        return self._model_builder(self.encode([idx])[0], dataset)

    def num_classes(self, dataset: str) -> int | None:
        """Classes of the network's head on ``dataset`` (None: a backbone without one)."""
        self._check_dataset(dataset)
        return self._model_shape(dataset)[0] if self._model_shape else None

    def input_size(self, dataset: str) -> tuple[int, int]:
        """(height, width) of the network's input on ``dataset``."""
        self._check_dataset(dataset)
        if self._model_shape is None:
            raise InvalidArchError(f"{self.name} has no network definition")
        r = self._model_shape(dataset)[1]
        return (r, r)

    def protocol(self, task: str) -> dict[str, str]:
        """Where a search on ``task`` reads its search metric and where the harness reads the
        reported (test) metric. Tables without validation accuracy are searched on test
        accuracy, and the returned ``note`` says so."""
        self._check_dataset(task)
        p = (self.extra.get("protocol") or {}).get(task)
        if p:
            sd, sm, rd, rm = p
            return {"search_dataset": sd, "search_metric": sm, "report_dataset": rd,
                    "report_metric": rm, "note": ""}
        ms = self.h5.metrics(task)
        if "valid_acc" in ms:
            return {"search_dataset": task, "search_metric": "valid_acc",
                    "report_dataset": task, "report_metric": "test_acc", "note": ""}
        return {"search_dataset": task, "search_metric": "test_acc", "report_dataset": task,
                "report_metric": "test_acc",
                "note": "searched on test accuracy: the table has no validation split"}

    def best(self, metric: str, dataset: str, epoch: int | None = None) -> float:
        return float(np.nanmax(self._column(dataset, metric, epoch, None)))

    def close(self) -> None:
        self.h5.close()

    def __repr__(self) -> str:
        return f"Benchmark({self.name!r}, {self.num_archs} archs, {self.path})"

