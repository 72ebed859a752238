"""Test helpers: run the CLI in a subprocess and check the one-line error contract."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None, timeout: float = 600,
            check: bool = False) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("PYTHONPATH", str(REPO))
    proc = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, env=full_env, cwd=str(REPO), timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"harness {' '.join(args)} failed: {proc.stderr}")
    return proc


def assert_bad_search_section(tmp_path: Path, key: str, section: dict, needle: str) -> None:
    """A profile whose ``search.<key>`` is ``section`` (a minimal valid profile otherwise)
    is refused: load_profile raises ConfigError and ``run`` says so in one line."""
    import json

    from harness.core.errors import ConfigError
    from harness.run.profile import load_profile

    prof = {"experiment_seed": 1, "search": {
        "seeds": 1, "budget": {"queries": 5}, "benchmarks": {"nb201": ["cifar10"]},
        key: section}}
    p = tmp_path / "p.json"
    p.write_text(json.dumps(prof))
    with pytest.raises(ConfigError, match=r"\S"):
        load_profile(str(p))
    assert_one_line_error(run_cli("run", "--all", "--profile", str(p)), needle)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Non-zero exit, exactly one line on stderr, no traceback, containing the needles."""
    assert proc.returncode != 0, proc.stdout
    # progress ("[harness] ...") and warning lines may precede the error; the error itself
    # is one line
    lines = [ln for ln in proc.stderr.splitlines()
             if ln.strip() and not ln.startswith(("[harness]", "warning:"))]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


#: seconds a corpus case may take before the watchdog fails it as a hang
CORPUS_CASE_SECONDS = 180


@contextlib.contextmanager
def watchdog(seconds: int, what: str):
    """Fail ``what`` as a hang after ``seconds`` (SIGALRM, main thread); CLI cases also carry
    their subprocess timeout."""
    def hang(_sig, _frame):
        pytest.fail(f"hang: {what} ran over {seconds} s", pytrace=False)

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def browser():
    """Headless Chromium through chromedriver (selenium). Skips, with the reason, where
    either is missing, unless NAS_HARNESS_REQUIRE_BROWSER is set (``.ci/run`` sets it once
    it has installed Debian's chromium and chromium-driver): then it fails."""
    import shutil

    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    why = ("selenium is not installed (pip install -e '.[test]')" if webdriver is None else
           "Debian's chromium and chromium-driver are not installed (apt-get install "
           "chromium chromium-driver)" if not (chrome and driver_bin) else "")
    if why:
        if os.environ.get("NAS_HARNESS_REQUIRE_BROWSER"):
            pytest.fail(f"browser test required but {why}")
        pytest.skip(why)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600",
                "--allow-file-access-from-files"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_bin), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
