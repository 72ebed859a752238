"""The reproduction check passes on this code and fails on drift."""

from __future__ import annotations

import json

from harness import commands
from tests.helpers import run_cli


def test_verify_passes(harness_home, data_root, nb201):
    proc = run_cli("verify", "--quiet", env={"NAS_HARNESS_HOME": str(harness_home),
                                             "NAS_HARNESS_DATA": str(data_root)}, check=True)
    assert "smoke aggregates match" in proc.stdout


def test_verify_fails_on_drift(tmp_path, monkeypatch, capsys, harness_home, data_root, nb201):
    want = json.loads(commands.EXPECTED.read_text())
    key = sorted(k for k in want if "test_mean" in want[k])[0]
    want[key]["test_mean"] += 0.5
    fake = tmp_path / "smoke.json"
    fake.write_text(json.dumps(want))
    monkeypatch.setattr(commands, "EXPECTED", fake)
    monkeypatch.setenv("NAS_HARNESS_HOME", str(harness_home))
    from harness.cli import main

    assert main(["verify", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"DRIFT {key} test_mean" in err and "1 values drifted" in err


def test_verify_without_expected_file(tmp_path, monkeypatch, harness_home, nb201):
    monkeypatch.setattr(commands, "EXPECTED", tmp_path / "missing.json")
    monkeypatch.setenv("NAS_HARNESS_HOME", str(harness_home))
    from harness.cli import main

    assert main(["verify", "--quiet"]) == 2
