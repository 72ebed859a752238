"""``gpu-check`` (run here on the CPU with the smoke profile, as it runs on a GPU with the
paper's) and ``estimate --device cuda`` reading its report on a machine without a GPU."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def report(tmp_path_factory, harness_home, data_root, nb201):
    out = tmp_path_factory.mktemp("gpu") / "report.json"
    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root),
           "OMP_NUM_THREADS": "1"}
    proc = run_cli("gpu-check", "--device", "cpu", "--profile", "smoke", "--methods",
                   "darts-v1,gdas", "--steps", "1", "--minutes", "0.5", "--out", str(out),
                   env=env, check=True)
    return json.loads(out.read_text()), proc.stdout, env


def test_the_report_holds_steps_batched_seeds_autocast_and_a_darts_run(report):
    rep, stdout, _ = report
    assert rep["device"] == "cpu" and rep["device_name"].startswith("CPU")
    assert set(rep["steps"]) == {"darts-v1", "gdas"}
    for m in rep["steps"].values():  # the smoke profile's configuration was timed
        assert (m["C"], m["N"], m["batch_size"], m["precision"]) == (4, 1, 32, "float64")
        assert m["seconds_per_step"] > 0 and m["steps_per_epoch"] == 256 // 32
    assert [b["K"] for b in rep["batched_darts_v1"]] == [1, 2, 4]
    assert all(b["seed_steps_per_second"] == pytest.approx(b["K"] / b["seconds_per_step"],
                                                           rel=1e-2)
               for b in rep["batched_darts_v1"])
    assert rep["autocast_bf16"]["precision"] == "bfloat16-autocast"
    run = rep["darts_v1_run"]
    assert 1 <= run["epochs_done"] == len(run["per_epoch"]) <= run["epochs"] == 2
    for e in run["per_epoch"]:
        assert 0 <= e["skip_edges"] <= 6 and 10 <= e["test_value"] <= 94.37
        assert 0 < e["skip_weight"] < 1
    assert "darts-v1" in stdout and "ms/step" in stdout and "report:" in stdout


def test_estimate_on_cuda_without_a_gpu_reads_the_report_or_says_not_measured(report,
                                                                               tmp_path):
    rep, _, env = report
    missing = tmp_path / "none.json"
    proc = run_cli("estimate", "--profile", "smoke", "--device", "cuda", "--kind", "oneshot",
                   "--gpu-report", str(missing), "--json", env=env, check=True)
    out = json.loads(proc.stdout)
    assert out["hours"]["total"] is None
    assert {ln["estimated GPU-h"] for ln in out["lines"]} == {"not measured"}
    # a CPU report is not a GPU measurement
    cpu = tmp_path / "cpu.json"
    cpu.write_text(json.dumps(rep))
    out = json.loads(run_cli("estimate", "--profile", "smoke", "--device", "cuda", "--kind",
                             "oneshot", "--gpu-report", str(cpu), "--json", env=env,
                             check=True).stdout)
    assert {ln["estimated GPU-h"] for ln in out["lines"]} == {"not measured"}
    # the same numbers measured on a GPU: DARTS-V1 and GDAS scaled to the profile's steps
    gpu = tmp_path / "gpu.json"
    gpu.write_text(json.dumps({**rep, "device": "cuda", "device_name": "a test GPU"}))
    out = json.loads(run_cli("estimate", "--profile", "smoke", "--device", "cuda", "--kind",
                             "oneshot", "--gpu-report", str(gpu), "--json", env=env,
                             check=True).stdout)
    lines = {ln["what"].split()[0]: ln for ln in out["lines"]}
    for m in ("darts-v1", "gdas"):
        s = rep["steps"][m]["seconds_per_step"]
        # smoke: 1 seed x nb201/cifar10 x 2 epochs x 8 steps
        assert lines[m]["estimated GPU-h"] == round(s * 2 * 8 / 3600, 3)
        assert "a test GPU" in lines[m]["measured"]
    assert lines["spos"]["estimated GPU-h"] == "not measured"
    assert out["hours"]["total"] is None  # some methods unmeasured: the total is unknown


def test_bad_reports_and_flags_are_one_line(report, tmp_path):
    _, _, env = report
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_one_line_error(run_cli("estimate", "--profile", "smoke", "--device", "cuda",
                                  "--kind", "oneshot", "--gpu-report", str(bad), env=env),
                          "bad.json", "gpu-check")
    assert_one_line_error(run_cli("gpu-check", "--device", "cpu", "--profile", "smoke",
                                  "--methods", "darts-v9", env=env), "darts-v9",
                          "not a one-shot method")
    assert_one_line_error(run_cli("gpu-check", "--device", "cpu", "--minutes", "0", env=env),
                          "--minutes")
    assert_one_line_error(run_cli("gpu-check", env=env), "--device cuda", "no CUDA")
