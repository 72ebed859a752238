"""The reproduction check passes on this code and fails on drift."""

from __future__ import annotations

import json

from harness.cli import verify
from tests.helpers import run_cli


def test_verify_passes(harness_home, data_root, nb201):
    proc = run_cli("verify", "--quiet", env={"NAS_HARNESS_HOME": str(harness_home),
                                             "NAS_HARNESS_DATA": str(data_root)}, check=True)
    assert "smoke aggregates match" in proc.stdout


def test_verify_fails_on_drift(monkeypatch, capsys, harness_home):
    # the comparison itself: this run's values (here: the committed ones, one shifted past
    # its tolerance; a real run is covered by test_verify_passes) against the expected file
    want = json.loads(verify.EXPECTED.read_text())
    manifest = json.loads(verify.EXPECTED_LEADERBOARD.read_text())
    key = sorted(k for k in want if "test_mean" in want[k])[0]
    pkey = sorted(k for k in want if "spearman" in want[k])[0]
    got = json.loads(json.dumps(want))
    got[key]["test_mean"] += 0.06
    got[pkey]["spearman"] -= 0.06
    monkeypatch.setattr(verify, "run_builtin", lambda *a: (got, manifest))
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
    monkeypatch.setattr(verify, "EXPECTED", tmp_path / "missing.json")
    from harness.cli.app import main

    assert main(["verify", "--quiet"]) == 2  # refused before running anything
    assert "verify --update" in capsys.readouterr().err


def test_verify_fails_when_the_leaderboard_is_not_reproduced(monkeypatch, capsys,
                                                              harness_home):
    """A regenerated file with other bytes (timings excluded) fails verify and is named; a
    file only under timings/ is never compared."""
    want = json.loads(verify.EXPECTED.read_text())
    manifest = json.loads(verify.EXPECTED_LEADERBOARD.read_text())
    assert "results.json" in manifest and "index.html" in manifest
    assert not any(k.startswith("timings/") for k in manifest)
    changed = dict(manifest, **{"results.json": "0" * 64})
    monkeypatch.setattr(verify, "run_builtin", lambda *a: (want, changed))
    monkeypatch.setenv("NAS_HARNESS_HOME", str(harness_home))
    from harness.cli.app import main

    assert main(["verify", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "NOT REPRODUCED results.json: different bytes" in err
    assert "1 leaderboard files differ" in err


def test_digests_leave_out_the_timings_and_the_inputs(tmp_path):
    from harness.report.manifest import compare, digests

    (tmp_path / "timings").mkdir()
    (tmp_path / "figures").mkdir()
    for rel, text in (("README.md", "a"), ("figures/x.png", "b"), ("timings/README.md", "c"),
                      ("timings/timings.json", "{}"), ("specs.json", "{}")):
        (tmp_path / rel).write_text(text)
    before = digests(tmp_path)
    assert sorted(before) == ["README.md", "figures/x.png"]
    (tmp_path / "timings" / "README.md").write_text("other times")
    assert compare(before, digests(tmp_path)) == []
    (tmp_path / "figures" / "x.png").write_text("other figure")
    (tmp_path / "figures" / "y.png").write_text("new")
    assert compare(before, digests(tmp_path)) == ["figures/x.png: different bytes",
                                                  "figures/y.png: new in the regenerated "
                                                  "leaderboard"]


def test_verify_against_a_folder_that_does_not_exist(tmp_path):
    proc = run_cli("verify", "--profile", "default", "--against", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "no such folder" in proc.stderr
    proc = run_cli("verify", "--profile", "default")
    assert proc.returncode == 2 and "--against leaderboard" in proc.stderr
