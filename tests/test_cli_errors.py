"""Bad input: one line (what, why, fix), non-zero exit, no traceback."""

from __future__ import annotations

import pytest

from harness.core.errors import InvalidArchError, UnknownNameError
from tests.helpers import assert_one_line_error, run_cli


def test_unknown_benchmark_suggests():
    assert_one_line_error(run_cli("data", "info", "nb210"), "unknown benchmark 'nb210'",
                          "did you mean 'nb201'")


def test_no_data_root_explains_the_fix(tmp_path):
    proc = run_cli("data", "info", "nb201", env={"NAS_HARNESS_HOME": str(tmp_path),
                                                 "NAS_HARNESS_DATA": str(tmp_path / "none")})
    assert_one_line_error(proc, "not converted yet", "NAS_HARNESS_DATA", "data convert")


def test_usage_error_is_one_line():
    assert_one_line_error(run_cli("data", "frobnicate"), "invalid choice")


def test_unknown_dataset_metric_and_arch(nb201):
    with pytest.raises(UnknownNameError, match="did you mean 'cifar100'"):
        nb201.query([0], "valid_acc", "cifar1000")
    with pytest.raises(UnknownNameError, match="did you mean 'valid_acc'"):
        nb201.query([0], "valid_accc", "cifar100")
    with pytest.raises(UnknownNameError, match="unknown epoch"):
        nb201.query([0], "valid_acc", "cifar100", epoch=13)
    with pytest.raises(InvalidArchError, match="not an architecture"):
        nb201.query(["|bogus~0|"], "valid_acc", "cifar100")
    with pytest.raises(InvalidArchError, match="out of range"):
        nb201.query([15625], "valid_acc", "cifar100")


def test_help_reads_well():
    proc = run_cli("--help", check=True)
    assert "data" in proc.stdout and "usage: python -m harness" in proc.stdout


def test_negative_proxy_time_box_is_one_line(nb201, harness_home, data_root, tmp_path):
    proc = run_cli("run", "synflow", "--profile", "smoke", "--proxy-minutes", "-2",
                   "--store", str(tmp_path / "s.sqlite"),
                   env={"NAS_HARNESS_HOME": str(harness_home),
                        "NAS_HARNESS_DATA": str(data_root)})
    assert_one_line_error(proc, "--proxy-minutes -2", "0 (no limit)")


def test_executor_flags_are_checked(tmp_path, nb201, harness_home, data_root):
    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root)}
    store = str(tmp_path / "s.sqlite")
    base = ("run", "random", "--profile", "smoke", "--store", store, "--quiet")
    assert_one_line_error(run_cli(*base, "--address", "10.0.0.1:6379", env=env),
                          "--address is for --executor ray")
    assert_one_line_error(run_cli(*base, "--executor", "ray", "--retries", "-2", env=env),
                          "--retries -2")
    assert_one_line_error(run_cli(*base, "--executor", "dask", env=env), "invalid choice")
    # Ray missing: a stand-in 'ray' package that cannot be imported
    fake = tmp_path / "noray" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    from tests.helpers import REPO

    proc = run_cli(*base, "--executor", "ray",
                   env={**env, "PYTHONPATH": f"{fake.parent}:{REPO}"})
    assert_one_line_error(proc, "needs Ray", "pip install 'nas-harness[ray]'")


@pytest.mark.parametrize("args, needle", [
    (("--jobs", "0"), "--jobs 0: give worker processes from 1 to 1024"),
    (("--jobs", "-3"), "--jobs -3: give worker processes"),
    (("--seeds", "-1"), "--seeds -1: give seeds per method and dataset from 1 to 100000"),
    (("--seeds", "1000000000000"), "--seeds 1000000000000: give seeds"),
    (("--proxy-minutes", "nan"), "--proxy-minutes nan: give minutes from 0 (no limit)"),
    (("--cell-minutes", "inf"), "--cell-minutes inf: give minutes"),
    (("--oneshot-minutes", "-0.5"), "--oneshot-minutes -0.5: give minutes"),
    (("--retries", "1000"), "--retries 1000: give retries"),
    (("--store", ""), "--store '': give the path of a results file"),
])
def test_numeric_and_path_arguments_are_bounded(args, needle, tmp_path):
    proc = run_cli("run", "random", "--profile", "smoke", *args,
                   *(() if "--store" in args else ("--store", str(tmp_path / "s.sqlite"))))
    assert_one_line_error(proc, needle)
    assert not (tmp_path / "s.sqlite").exists()  # refused before any work


def test_output_paths_are_checked_before_any_cell_runs(tmp_path):
    afile = tmp_path / "lb"
    afile.write_text("not a folder")
    proc = run_cli("run", "random", "--profile", "smoke", "--store",
                   str(tmp_path / "s.sqlite"), "--out", str(afile))
    assert_one_line_error(proc, f"--out {afile}: is a file, not a folder")
    assert not (tmp_path / "s.sqlite").exists()
    proc = run_cli("run", "random", "--profile", "smoke", "--store", str(tmp_path))
    assert_one_line_error(proc, f"--store {tmp_path}: is a folder")


@pytest.mark.parametrize("home", ["/proc/no-such-dir/home", "/etc/hostname"])
def test_an_unusable_cache_home_is_one_line(home, data_root):
    proc = run_cli("data", "info", "nb201", env={"NAS_HARNESS_HOME": home,
                                                 "NAS_HARNESS_DATA": str(data_root)})
    assert_one_line_error(proc, f"cache home {home}: cannot create it",
                          "point NAS_HARNESS_HOME at a folder you can write to")


def test_absurd_plans_are_refused_before_allocating(tmp_path, nb201, harness_home, data_root):
    proc = run_cli("run", "--all", "--profile", "paper", "--kind", "search", "--seeds",
                   "100000", "--store", str(tmp_path / "s.sqlite"),
                   env={"NAS_HARNESS_HOME": str(harness_home),
                        "NAS_HARNESS_DATA": str(data_root)}, timeout=60)
    assert_one_line_error(proc, "100000 seeds x 7 search methods x", "search cells (+ "
                          "3,500,000 training-free, warm-start and hardware-aware cells), "
                          "over the "
                          "1,000,000 one run may plan", "lower --seeds")
