"""``estimate``: units counted from the profile independently of the code under test, and
hours = measured seconds per unit x units."""

from __future__ import annotations

import json

import pytest

from harness.core import cellbase
from harness.core.registry import default_registry
from harness.oneshot.cells import plan_oneshot_cells
from harness.proxies.cells import plan_proxy_cells
from harness.run.estimate import estimate, summary_table
from harness.run.profile import load_profile
from harness.search.cells import plan_cells
from tests.helpers import run_cli

pytestmark = pytest.mark.realdata


def test_units_follow_the_profile(nb201, monkeypatch):
    monkeypatch.setitem(cellbase._WORKER_BENCH, "nb201", nb201)
    reg = default_registry()
    prof = load_profile("smoke")
    methods = {n: reg.get(n) for n in ("random", "rea", "params", "synflow", "darts-v1",
                                       "gdas")}
    cells = (plan_cells(prof, methods, benchmarks=["nb201"])
             + plan_proxy_cells(prof, methods, benchmarks=["nb201"])
             + plan_oneshot_cells(prof, methods, benchmarks=["nb201"]))
    lines = estimate(cells, reg, archs=2, steps=1)
    by = {ln.what: ln for ln in lines}
    # search: 2 methods x 3 datasets of NB201 in the smoke profile, 3 seeds each
    search = [ln for ln in lines if ln.kind == "search"]
    assert len(search) == 6 and all(ln.cells == ln.units == 3 for ln in search)
    # proxies: one sample of 8 archs on CIFAR-10, params + synflow (2 own cells)
    (proxy,) = [ln for ln in lines if ln.kind == "proxy"]
    assert proxy.units == 8 and proxy.cells == 2 and proxy.what.startswith("2 proxies")
    # one-shot: 256 images / batch 32 = 8 steps an epoch, 2 epochs, 1 seed
    assert by["darts-v1 (smoke configuration)"].units == 16
    assert by["gdas (smoke configuration)"].units == 16
    assert all(ln.unit_seconds > 0 for ln in lines)
    rows, hours = summary_table(lines, "cpu")
    assert hours["total"] == pytest.approx(sum(ln.unit_seconds * ln.units for ln in lines)
                                           / 3600)
    assert set(hours) == {"search", "proxy", "oneshot", "total"}
    assert all("estimated CPU-core-h" in r for r in rows)


def test_cli_prints_json_and_labels_it(nb201):
    proc = run_cli("estimate", "--profile", "smoke", "--kind", "search", "--benchmark",
                   "nb201", "--json", check=True)
    out = json.loads(proc.stdout)
    assert out["profile"] == "smoke" and out["unit"].startswith("CPU-core-hours")
    # 7 search strategies x 3 NB201 datasets, NASWOT search (1 budget, CIFAR-10), the 2
    # warm starts and the 3 hardware-aware strategies (CIFAR-10, one line each)
    assert len(out["lines"]) == 7 * 3 + 1 + 2 + 3
    assert out["hours"]["total"] == pytest.approx(out["hours"]["search"])
    bad = run_cli("estimate", "--profile", "smoke", "--steps", "0")
    assert bad.returncode != 0 and "--steps" in bad.stderr
