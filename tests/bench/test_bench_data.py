"""Data-layer speed (pytest-benchmark). Run: ``tox -e bench`` or
``pytest tests/bench --benchmark-enable``. Baselines measured in the same run: parsing the
raw CSV (what a user does without the harness) and a bare numpy take (the floor)."""

from __future__ import annotations

import csv
import tracemalloc

import numpy as np
import pytest

from adapters import open_file
from adapters.nb201 import SHARED_FILES

pytestmark = pytest.mark.realdata


def test_open_and_first_query(benchmark, nb201):
    path = nb201.path

    def run():
        b = open_file("nb201", path)
        v = b.query(np.array([123], dtype=np.int64), "valid_acc", "cifar100")
        b.close()
        return v

    v = benchmark(run)
    assert v[0] == nb201.query([123], "valid_acc", "cifar100")[0]


def test_vectorised_query_all_archs(benchmark, nb201):
    ids = np.arange(nb201.num_archs, dtype=np.int64)
    nb201.query(ids, "test_acc", "cifar10")  # warm the column cache
    v = benchmark(nb201.query, ids, "test_acc", "cifar10")
    assert v.shape == (15625,) and np.nanmax(v) == pytest.approx(94.37, abs=0.01)
    if benchmark.stats is not None:
        benchmark.extra_info["archs_per_second"] = 15625 / benchmark.stats.stats.mean


def test_baseline_numpy_take(benchmark):
    col = np.random.default_rng(0).random(15625).astype(np.float32)
    ids = np.arange(15625, dtype=np.int64)
    assert benchmark(np.take, col, ids).shape == (15625,)


def test_baseline_parse_raw_csv(benchmark, data_root):
    def run():
        with open(data_root / SHARED_FILES["test"], newline="") as fh:
            return [float(r["CIFAR10TestAccuracy200Epochs"]) for r in csv.DictReader(fh)]

    assert len(benchmark(run)) == 15625


def test_peak_memory_open_and_query_everything(benchmark, nb201):
    def run():
        tracemalloc.start()
        b = open_file("nb201", nb201.path)
        ids = np.arange(b.num_archs, dtype=np.int64)
        for ds in b.datasets:
            for m in b.metrics(ds):
                b.query(ids, m, ds)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        b.close()
        return peak

    peak = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["peak_mib"] = peak / 2**20
    assert peak < 64 * 2**20  # every metric of every dataset, far below the API's ~28 GB


# ---- one arch string -> index (the NB201 API's query_index_by_arch) ----------------------
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|" \
       "nor_conv_1x1~2|"


def test_index_of_arch_string(benchmark, nb201):
    nb201.index_of(BEST)  # the id dict is built on first use
    assert benchmark(nb201.index_of, BEST) == 6111


def test_index_list_of_one_arch_string(benchmark, nb201):
    """The vectorised path with a one-element list (what callers used before index_of)."""
    assert benchmark(nb201.index, [BEST]).tolist() == [6111]


def test_baseline_nb201_api_dict_lookup(benchmark, nb201):
    """The NB201 API's lookup: a membership test, then a dict read, in a method."""
    class API:
        def __init__(self, archs):
            self.archstr2index = {s: i for i, s in enumerate(archs)}

        def query_index_by_arch(self, arch):
            if arch in self.archstr2index:
                return self.archstr2index[arch]
            return -1

    api = API(nb201.archs.tolist())
    assert benchmark(api.query_index_by_arch, BEST) == 6111
