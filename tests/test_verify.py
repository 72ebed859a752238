"""The reproduction check passes on this code and fails on drift."""

from __future__ import annotations

import json

from harness.cli import commands
from tests.helpers import run_cli


def test_verify_passes(harness_home, data_root, nb201):
    proc = run_cli("verify", "--quiet", env={"NAS_HARNESS_HOME": str(harness_home),
                                             "NAS_HARNESS_DATA": str(data_root)}, check=True)
    assert "smoke aggregates match" in proc.stdout


def test_verify_fails_on_drift(monkeypatch, capsys, harness_home):
    # the comparison itself: this run's values (here: the committed ones, one shifted past
    # its tolerance; a real run is covered by test_verify_passes) against the expected file
    want = json.loads(commands.EXPECTED.read_text())
    key = sorted(k for k in want if "test_mean" in want[k])[0]
    pkey = sorted(k for k in want if "spearman" in want[k])[0]
    got = json.loads(json.dumps(want))
    got[key]["test_mean"] += 0.06
    got[pkey]["spearman"] -= 0.06
    monkeypatch.setattr(commands, "run_smoke", lambda jobs, quiet: got)
    monkeypatch.setenv("NAS_HARNESS_HOME", str(harness_home))
    from harness.cli.app import main

    assert main(["verify", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"DRIFT {key} test_mean" in err and f"DRIFT {pkey} spearman" in err
    assert "2 values drifted" in err
    got[key]["test_mean"] -= 0.02  # 0.04 off: within the tolerance of 0.05
    got[pkey]["spearman"] += 0.02
    assert main(["verify", "--quiet"]) == 0


def test_verify_without_expected_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(commands, "EXPECTED", tmp_path / "missing.json")
    from harness.cli.app import main

    assert main(["verify", "--quiet"]) == 2  # refused before running anything
    assert "verify --update" in capsys.readouterr().err
