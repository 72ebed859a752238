"""BANANAS's search results do not depend on the CPU's BLAS kernel.

numpy's OpenBLAS picks a matrix-multiply kernel for the CPU it runs on (AVX-512, AVX2,
AVX, SSE); the kernels round differently. With version 2's float32 ensemble fits that was
enough to change proposals: the smoke profile's BANANAS rows differed between an AVX2 and
an AVX-512 CI machine (nb201/cifar10, 50 queries: 94.1533 vs 94.0956 mean test accuracy).
Version 3 fits in float64. Here the same searches run in subprocesses forced onto three
kernels (``OPENBLAS_CORETYPE``, which every x86-64 CPU since 2013 can run): the fitted
ensemble's predictions differ in their last bits between kernels (the kernels really
differ), and the searched archs and results are identical.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import REPO

KERNELS = ("Haswell", "Sandybridge", "Nehalem")

SCRIPT = r"""
import hashlib, json, sys
import numpy as np
import adapters
from harness.core.budget import Budget
from harness.search.cells import Cell, run_search_cell
from methods.search._predictor import MlpEnsemble
from methods.search.bananas import Bananas

precision = int(sys.argv[1])
rng = np.random.default_rng(0)
x = (rng.random((80, 30)) < 0.2).astype(float)
y = rng.random(80)
pred = MlpEnsemble(np.random.default_rng(1), precision=precision).fit(x, y).predict(x)
cls = type("B", (Bananas,), {"__init__": lambda self: Bananas.__init__(self,
                                                                   precision=precision)})
bench = adapters.load_benchmark("nb201")
rows = [run_search_cell(cls, Cell("bananas", "nb201", ds, s, Budget(queries=100), 20261128),
                        bench) for ds in ("cifar10", "ImageNet16-120") for s in range(3)]
print(json.dumps({"fit": hashlib.sha256(pred.tobytes()).hexdigest(),
                  "results": [[r["test_value"], r["search_value"]] for r in rows]}))
"""


def _openblas() -> bool:
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]
    except (TypeError, KeyError):  # numpy < 1.26: no dict mode
        return False
    return "openblas" in str(deps.get("blas", {}).get("name", "")).lower()


def _run(kernel: str, precision: int, nb201, harness_home, data_root) -> dict:
    env = dict(os.environ, OPENBLAS_CORETYPE=kernel, OPENBLAS_NUM_THREADS="1",
               NAS_HARNESS_HOME=str(harness_home), NAS_HARNESS_DATA=str(data_root),
               PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(precision)], env=env,
                          cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or not _openblas(),
                    reason="needs numpy on OpenBLAS on x86-64 (OPENBLAS_CORETYPE)")
def test_bananas_searches_equal_under_three_blas_kernels(nb201, harness_home, data_root):
    runs = {k: _run(k, 64, nb201, harness_home, data_root) for k in KERNELS}
    fits = {r["fit"] for r in runs.values()}
    assert len(fits) > 1, "the kernels gave bit-identical fits: OPENBLAS_CORETYPE ignored?"
    first = runs[KERNELS[0]]["results"]
    assert all(r["results"] == first for r in runs.values())
    assert len(first) == 6 and all(40.0 < test < 94.38 for test, _ in first)
