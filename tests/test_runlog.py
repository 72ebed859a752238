"""Stage timings of a run (harness.core.runlog): the clock, the store's run log, and the
first run the leaderboard's timings page reports."""

from __future__ import annotations

import json
import time

import pytest

from harness.core.runlog import (
    STAGES,
    StageClock,
    append_run,
    describe,
    first_run_seconds,
    log_path,
    read_runs,
)


def test_the_clock_adds_up_each_stage():
    clock = StageClock()
    with clock.stage("search cells"):
        time.sleep(0.02)
    with clock.stage("search cells"):
        time.sleep(0.02)
    with clock.stage("leaderboard"):
        pass
    assert 0.04 <= clock.seconds["search cells"] < 1.0
    assert clock.total == pytest.approx(sum(clock.seconds.values()))
    with pytest.raises(ValueError, match="unknown stage"):
        with clock.stage("coffee"):
            pass


def test_describe_orders_stages_and_formats_durations():
    line = describe({"one-shot cells": 3725.0, "search cells": 190.4, "score tables": 7.0})
    assert line == "score tables 7s, search cells 3m 10s, one-shot cells 1h 02m, total 1h 05m"


def test_the_first_run_spans_the_invocations_until_nothing_was_left(tmp_path):
    store = tmp_path / "r.sqlite"
    assert read_runs(store) == [] and first_run_seconds([]) is None
    runs = [
        {"rows_before": 0, "left": 7, "stages": {"search cells": 10.0, "proxy sweep": 50.0},
         "started": "t0", "host": "h", "cores": 2},
        {"rows_before": 20, "left": 0, "stages": {"proxy sweep": 30.0,
                                                  "one-shot cells": 100.0}},
        {"rows_before": 27, "left": 0, "stages": {"leaderboard": 5.0}},  # a later rerun
    ]
    for r in runs:
        append_run(store, r)
    with log_path(store).open("a") as f:
        f.write('{"rows_before": 0, "sta')  # a line cut short by a kill
    assert read_runs(store) == runs
    first = first_run_seconds(read_runs(store))
    assert first["stages"] == {"search cells": 10.0, "proxy sweep": 80.0,
                               "one-shot cells": 100.0}
    assert list(first["stages"]) == [s for s in STAGES if s in first["stages"]]
    assert first["total"] == 190.0 and first["invocations"] == 2 and first["complete"]
    assert first["cpu"] == "not recorded"  # a log written before runs named their CPU
    # a store whose log starts after its first run (log added later) has no first run
    assert first_run_seconds(runs[1:]) is None


def test_a_run_logs_its_stages_and_the_timings_page_reports_the_first_run(
        tmp_path, harness_home, data_root, nb201):
    from tests.helpers import run_cli

    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root)}
    store, out = tmp_path / "s.sqlite", tmp_path / "lb"
    proc = run_cli("run", "random", "rea", "--benchmark", "nb201", "--dataset", "cifar10",
                   "--profile", "smoke", "--store", str(store), "--out", str(out),
                   env=env, check=True)
    assert "time per stage: " in proc.stdout and "search cells" in proc.stdout
    assert "[harness] to run: " in proc.stderr
    assert "ETA, timed here on a few units of each stage" in proc.stderr
    (run,) = read_runs(store)
    assert run["rows_before"] == 0 and run["left"] == 0 and run["ran"] > 0
    assert set(run["stages"]) <= set(STAGES) and run["stages"]["search cells"] > 0
    doc = json.loads((out / "timings" / "timings.json").read_text())
    first = doc["first_run_seconds"]
    assert first["stages"]["search cells"] == round(run["stages"]["search cells"], 1)
    assert first["complete"] and first["invocations"] == 1
    # the CPU kind (model, torch's kernel ISA): float32 one-shot rows depend on it
    import torch

    from harness.core.cellbase import cpu_kind

    assert run["cpu"] == first["cpu"] == cpu_kind()
    assert first["cpu"].endswith(f"(torch kernels: {torch.backends.cpu.get_cpu_capability()})")
    assert first["cpu"] in (out / "timings" / "README.md").read_text()
    assert "The first run, stage by stage" in (out / "timings" / "README.md").read_text()
    run_cli("run", "random", "rea", "--benchmark", "nb201", "--dataset", "cifar10",
            "--profile", "smoke", "--store", str(store), env=env, check=True)
    again = read_runs(store)
    assert len(again) == 2 and again[1]["ran"] == 0 and again[1]["rows_before"] > 0


def test_the_eta_covers_the_stages_left_to_run(tmp_path, harness_home, data_root, nb201,
                                               monkeypatch):
    """The start-of-run ETA times a few units of each stage with pending cells, and only
    those: once a profile's search cells are stored, the search stage drops out."""
    from harness.core.registry import default_registry
    from harness.core.store import open_store
    from harness.run import engine
    from harness.run.eta import eta_line, measured_eta
    from harness.run.plan import plan
    from harness.run.profile import load_profile

    reg = default_registry()
    methods = {n: reg.get(n) for n in ("random", "rea", "darts-v1")}
    prof = load_profile("smoke")
    cells = [c for c in plan(prof, methods) if c.benchmark == "nb201"]
    store = open_store(tmp_path / "s.sqlite")
    eta = measured_eta(engine.pending(cells, store, reg), reg, store.path)
    assert set(eta) == {"search cells", "one-shot cells"} and all(v > 0 for v in eta.values())
    search = [c for c in cells if not hasattr(c, "cfg")]
    engine.execute(search, store, reg, progress=False)
    left = engine.pending(cells, store, reg)
    assert left and all(hasattr(c, "cfg") for c in left)  # only the one-shot cells
    assert set(measured_eta(left, reg, store.path)) == {"one-shot cells"}
    assert eta_line([], reg, store.path) == "ETA: nothing to run"

    def broken(*_a, **_k):
        raise RuntimeError("a plugin's bug\nwith a second line")

    monkeypatch.setattr("harness.run.eta.measured_eta", broken)
    line = eta_line(left, reg, store.path)
    assert line.startswith("ETA not measured (RuntimeError: a plugin's bug)") and "\n" not in line
    store.close()
