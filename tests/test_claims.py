"""The claims audit: verdicts are computed from the store and the reference file, and a
changed measurement flips the verdict of the claim it belongs to."""

from __future__ import annotations

import pytest

from harness.core.store import open_store
from harness.report.claims import audit
from harness.report.leaderboard import current_rows, load_specs
from harness.report.survey_tables import collapse

SPECS, REFS = load_specs()


def _row(kind: str, method: str, result: dict, **kw) -> dict:
    base = {"method": method, "method_version": "1", "kind": kind, "benchmark": "nb201",
            "data_sha256": "x", "dataset": "cifar10", "seed": 0, "budget": "b",
            "search_on": "", "report_on": "", "note": "", "config": {}, "result": result,
            "package_version": "0", "git_commit": "0", "python": "3", "numpy": "1",
            "torch": "2", "device": "cpu", "host": "h", "started": "2026-11-28",
            "finished": "2026-11-28"}
    return {**base, **kw}


def _store(tmp_path, rows):
    store = open_store(tmp_path / "fixture.sqlite")
    for r in rows:
        assert store.insert(r)
    return current_rows(store.rows())


def result(skips: int, configuration: str = "reduced") -> dict:
    """A complete one-shot result whose derived cell has ``skips`` skip edges."""
    return {"skip_edges": skips, "log": [{"weights": [[0.2] * 5] * 6}],
            "configuration": configuration, "complete": True, "search_seconds": 10.0,
            "device": "cpu"}


def _verdict(rows, claim_id: str) -> str:
    text = next(c["claim"] for c in SPECS["claims"] if c["id"] == claim_id)
    return next(a["verdict"] for a in audit(rows, SPECS, REFS) if a["claim"] == text)


@pytest.mark.parametrize("tau, rho, want", [(0.62, 0.80, "reproduced"),
                                             (0.45, 0.64, "mislabelled"),
                                             (0.45, 0.50, "contradicted")])
def test_a_measured_proxy_correlation_decides_its_claim(tmp_path, tau, rho, want):
    rows = _store(tmp_path, [_row("proxy", "synflow", {
        "test": {"kendall": tau, "spearman": rho, "n": 300}, "archs_scored": 300})])
    assert _verdict(rows, "t3-synflow") == want


@pytest.mark.parametrize("spos, fairnas, want", [(0.42, 0.66, "reproduced"),
                                                 (0.42, 0.30, "contradicted")])
def test_the_fairnas_claim_follows_the_measured_supernet_ranking(tmp_path, spos, fairnas,
                                                                 want):
    def oneshot(method, tau):
        return _row("oneshot", method, {"ranking": {"supernet_vs_test": {"kendall": tau}},
                                        "configuration": "reduced"}, budget=method)

    rows = _store(tmp_path, [oneshot("spos", spos), oneshot("fairnas", fairnas)])
    assert _verdict(rows, "text-fairnas") == want
    assert _verdict([], "text-fairnas") == "unverifiable"  # nothing measured, no original


def test_unmeasured_claims_take_the_reference_files_verdict():
    assert _verdict([], "t1-amoebanet") == "mislabelled"  # GPU-days in a GPU-h column
    assert _verdict([], "t1-nas") == "mislabelled"  # NASNet's cost under Zoph & Le
    assert _verdict([], "text-tenas-cost") == "mislabelled"
    assert _verdict([], "t2-darts-error") == "reproduced"
    assert _verdict([], "t1-ofa") == "unverifiable"  # UNVERIFIED original


def test_the_audit_covers_every_survey_number_of_the_reference_file():
    covered = {i for c in SPECS["claims"] for i in (c["ref_id"], *c.get("also_ref_ids", []))}
    table_rows = [r for r in REFS.values() if r["section"].startswith(("1.", "5."))
                  and r["survey_value"] not in ("-", "(not in survey)")
                  and not r["survey_value"].startswith("(see")]
    assert table_rows and {r["id"] for r in table_rows} <= covered
    assert sum(c["where"].startswith("text") for c in SPECS["claims"]) >= 10
    for c in SPECS["claims"]:
        assert c["ref_id"] is None or c["ref_id"] in REFS, c["id"]


def test_skip_collapse_is_measured_on_the_derived_cells():
    def run(skips, w0, w1):
        log = [{"weights": [[0.2, w0, 0.2, 0.2, 0.2]] * 6}, {"weights": [[0.1, w1, 0.1, 0.1,
                                                                          0.1]] * 6}]
        return {"result": {"skip_edges": skips, "log": log}}

    got = collapse([run(6, 0.2, 0.6), run(4, 0.2, 0.5)])
    assert got["verdict"] == "collapse" and got["collapsed_seeds"] == 2
    assert got["trajectory"].startswith("skip weight rises (0.200 -> 0.550")
    assert collapse([run(0, 0.2, 0.2), run(3, 0.2, 0.2)])["verdict"] == "no collapse"


@pytest.mark.parametrize("ref_id, said, skips, baseline, want", [
    (35, None, 6, None, "reproduced"),  # the reference file's own entry: DARTS 'Yes (often)'
    (35, None, 0, None, "contradicted"),
    (36, None, 0, 6, "reproduced"),  # DARTS-: 'No', where DARTS-V1 does collapse
    (36, None, 6, 6, "contradicted"),
    (36, None, 0, 0, "not judged"),  # DARTS-V1 keeps its cell too: 'no collapse' says nothing
    (36, None, 0, None, "not judged"),  # DARTS-V1 not run at that configuration
    (38, None, 6, 6, "contradicted"),  # P-DARTS: 'Rare' claims no collapse as the rule
    (38, None, 0, 6, "reproduced"),
    (38, None, 6, 0, "contradicted"),  # collapsing where DARTS-V1 does not: still contradicts
    ("35-v2", None, 0, 0, "not judged"),  # DARTS-V2 'Yes' kept where DARTS-V1 keeps it too
    ("35-v2", None, 0, 6, "contradicted"),  # ... but not where DARTS-V1 collapses
    ("35-v2", None, 6, 0, "reproduced"),
    (40, None, 6, 6, "not checked"),  # GAEA's reference row is UNVERIFIED: no check
    (35, "delete", 6, None, "unverifiable"),
    (35, "Sometimes", 6, None, "unverifiable"),
])
def test_table2_collapse_verdict_follows_the_measured_cells(tmp_path, ref_id, said, skips,
                                                            baseline, want):
    """The verdict is computed per row from the reference file's ``survey_skip_collapse``
    and the derived cells of the stored runs; a "no collapse" claim is judged only where
    DARTS-V1 collapses at the same configuration (``baseline``: its skip edges, None: not
    run)."""
    from harness.report.survey_tables import table2

    method = "darts-v1" if ref_id == 35 else "variant"
    if ref_id == "35-v2":  # DARTS-V2's row: the same reference row as DARTS-V1's
        ref_id = 35
    rows = [_row("oneshot", method, result(skips), test_value=54.3, seed=s,
                 budget="reduced") for s in (0, 1)]
    if baseline is not None and method != "darts-v1":
        rows += [_row("oneshot", "darts-v1", result(baseline), test_value=54.3, seed=s,
                      budget="reduced") for s in (0, 1)]
    # a collapsing DARTS-V1 at another configuration is no baseline for this one
    rows += [_row("oneshot", "darts-v1", result(6, "smoke"), test_value=54.3, seed=s,
                  budget="smoke") for s in (0, 1) if method != "darts-v1"]
    rows = _store(tmp_path, rows)
    refs = {**REFS, ref_id: dict(REFS[ref_id])}
    if said == "delete":
        del refs[ref_id]["survey_skip_collapse"]
    elif said is not None:
        refs[ref_id]["survey_skip_collapse"] = said
    spec = {"label": "X", "method": method, "survey_ref": ref_id}
    (row,) = [r for r in table2(rows, {"table2": [spec]}, refs) if r["method"] == "X"]
    assert row["verdict on the survey's 'skip collapse?'"].startswith(want)
    assert row["configuration"] == "reduced"
    assert row["survey's key fix"] == REFS[ref_id]["survey_key_fix"]


def test_the_reference_file_has_the_survey_table2_entries():
    """Rows 35-40 carry the survey's Table 2 'Skip Collapse?' / 'Key Fix' verbatim."""
    got = {i: (REFS[i]["survey_skip_collapse"], REFS[i]["survey_key_fix"])
           for i in range(35, 41)}
    assert got[35] == ("Yes (often)", "\u2014") and got[38] == ("Rare", "Progressive depth")
    assert {v[0] for v in got.values()} == {"Yes (often)", "No", "Rare"}


@pytest.mark.parametrize("synflow_seconds, want", [(0.036, "reproduced"),
                                                   (36.0, "contradicted")])
def test_the_cost_span_claim_is_judged_on_the_timings_page_only(tmp_path, synflow_seconds,
                                                                 want):
    """'Six orders of magnitude' rests on wall-clock costs: the timings page judges it (and a
    changed timing flips it); the claims page, which must regenerate byte-identically,
    points there instead."""
    from harness.report.timings import document

    rows = _store(tmp_path, [
        _row("search", "reinforce", {}, sim_seconds_used=3.6e6, wall_seconds=0.5,
             budget="sim_seconds=3600000"),  # 1,000 simulated GPU-h
        _row("proxy", "synflow", {"test": {"kendall": 0.5, "spearman": 0.7, "n": 100},
                                  "archs_scored": 100, "median_seconds": synflow_seconds})])
    # 100 archs x 0.036 s = 1e-3 h: 6 orders below 1,000 h; x 36 s = 1 h: 3 orders
    timed = document(rows, SPECS, REFS, "2026-11-29T00:00:00+00:00")
    claim = next(c for c in timed["claims"] if c["claim"].startswith("NAS search costs span"))
    assert claim["verdict"] == want
    assert timed["table1"]["orders_of_magnitude"] == pytest.approx(
        6.0 if want == "reproduced" else 3.0)
    assert _verdict(rows, "text-cost-orders") == "timed"
    main_page = next(a for a in audit(rows, SPECS, REFS) if a["claim"] == claim["claim"])
    assert "timings page" in main_page["why"] and main_page["measured"] == "—"


def test_table2_takes_darts_v1_at_its_largest_configuration(tmp_path):
    """The default profile runs DARTS-V1 at cpu-collapse (``oneshot.also``) beside every
    method at reduced: its Table 2 row is the cpu-collapse one, where it collapses, and a
    variant at reduced, where DARTS-V1 keeps its cell, is not judged."""
    from harness.report.survey_tables import table2

    rows = [_row("oneshot", m, result(k, conf), test_value=acc, seed=s, budget=conf)
            for m, k, conf, acc in (("darts-v1", 6, "cpu-collapse", 54.30),
                                    ("darts-v1", 0, "reduced", 85.0),
                                    ("darts-minus", 0, "reduced", 88.0))
            for s in (0, 1, 2)]
    specs = {"table2": [{"label": "DARTS", "method": "darts-v1", "survey_ref": 35},
                        {"label": "DARTS-", "method": "darts-minus", "survey_ref": 36}]}
    got = {r["method"]: r for r in table2(_store(tmp_path, rows), specs, REFS)}
    assert got["DARTS"]["configuration"] == "cpu-collapse"
    assert got["DARTS"]["derived cell test acc"] == "54.30 ± 0.00"
    assert got["DARTS"]["verdict on the survey's 'skip collapse?'"].startswith("reproduced")
    assert got["DARTS-"]["configuration"] == "reduced"
    verdict = got["DARTS-"]["verdict on the survey's 'skip collapse?'"]
    assert verdict.startswith("not judged") and "0.0 skip edges" in verdict
