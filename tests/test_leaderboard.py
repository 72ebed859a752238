"""Leaderboard: generated from the store only; references only from VERIFIED rows."""

from __future__ import annotations

import json
import re

import pytest

from harness.report.leaderboard import SPEC_DIR, current_rows, load_specs, parse_pm
from tests.helpers import run_cli


def test_spec_numbers_come_from_verified_reference_rows():
    specs, refs = load_specs()
    for s in specs["search"]:
        ref = refs[s["ref_id"]]
        assert ref["status"].startswith("VERIFIED"), s
        for value in s["test"].values():
            mean, std = parse_pm(value)
            assert f"{mean:.2f}" in ref["original_value"], (s["ref_id"], value)
            if std is not None:
                assert f"{mean:.2f}±{std:.2f}" in ref["original_value"].replace(" ", "")
    for s in specs["training_free"]:  # NASWOT search: "N=10: 91.53±1.62 / ..."
        ref = refs[s["ref_id"]]
        assert ref["status"].startswith("VERIFIED"), s
        text = ref["original_value"].replace(" ", "")
        part = text.split(f"N={s['scored']}:", 1)[1]
        part = part.split("(valid", 1)[0].split("N=", 1)[0].split(",", 1)[0]
        assert part.split("/") == list(s["test"].values()), (s["ref_id"], part)
    for s in specs["unverified_search"]:
        assert refs[s["ref_id"]]["status"] == "UNVERIFIED"
    for s in specs["oneshot"]:  # valid / test of the NB201 weight-sharing table
        ref = refs[s["ref_id"]]
        assert ref["status"].startswith("VERIFIED"), s
        for value in (*s["valid"].values(), *s["test"].values()):
            assert value.replace(" ", "") in ref["original_value"].replace(" ", ""), (
                s["ref_id"], value)


def test_reference_copy_matches_the_project_file(data_root):
    shared = data_root.parent / "reference" / "reference_numbers.json"
    assert json.loads((SPEC_DIR / "reference_numbers.json").read_text()) == json.loads(
        shared.read_text())


def test_the_runs_end_summary_names_every_metric_and_where_things_are(smoke_site):
    """What a user reads at the end of 'run --all': the search table with every metric named,
    the proxies' correlations, the one-shot table, the counts, the store and the leaderboard;
    no warning about a benchmark the run does not touch."""
    _, store, out = smoke_site
    text = (store.parent / "run.out").read_text()
    search = [ln.split() for ln in text.splitlines() if ln.startswith(("nb201 ", "tnb101"))]
    assert {(s[0], s[4]) for s in search} >= {
        ("nb201", "cifar10/test_acc"), ("nb201", "cifar100/test_acc"),
        ("nb201", "ImageNet16-120/test_acc"), ("tnb101-micro", "class_scene/test_top1"),
        ("tnb101-macro", "jigsaw/test_top1")}, text
    assert all(s[5] == "(%)" for s in search if s[4].endswith(("acc", "top1")))
    assert "zero-cost proxies: Spearman ρ with each dataset's test metric" in text
    assert re.search(r"^synflow\s+-?\d\.\d\d \(-?\d\.\d\d\)", text, re.M), text
    assert "one-shot on nb201 (smoke/" in text and "survey's FairNAS claim" in text
    assert "ran 218 cells, skipped 0 already stored, 0 failed; store: " + str(store) in text
    assert "leaderboard from 218 rows of this run's plan: 218 computed now" in text
    assert f"leaderboard: {out}/README.md, {out}/index.html" in text
    err = (store.parent / "run.err").read_text()
    assert not [ln for ln in err.splitlines()
                if ln.startswith("warning") and "nb101" not in ln], err


def test_smoke_run_writes_the_leaderboard(tmp_path, smoke_site):
    env, store, out = smoke_site
    for f in ("README.md", "index.html", "results.json"):
        assert (out / f).stat().st_size > 500
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert all((out / "figures" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert [p for p in pngs if p.startswith("search_nb201")] == [
        "search_nb201_ImageNet16-120_queries-50.png", "search_nb201_cifar100_queries-50.png",
        "search_nb201_cifar10_queries-50.png"]
    assert len([p for p in pngs if p.startswith("search_tnb101")]) == 4
    assert "proxy_gap_cifar10.png" in pngs
    text = (out / "results.json").read_text()
    res = json.loads(text)
    _check_results_document(res, text)
    # the search tables: every strategy of the plain setting (NASWOT and the hardware-aware
    # ones have their own sections, checked below)
    assert {a["method"] for a in res["search"]} == {"random", "rea", "reinforce",
                                                     "local-search", "bananas", "hyperband",
                                                     "bohb"}
    assert [(t["method"], t["scored"]) for t in res["training_free"]] == [("naswot", 10)]
    # the warm starts beside their cold starts (same seeds, same 50-query budget)
    assert {(w["method"], w["cold"]["method"], w["scored"], w["budget"], w["seeds"])
            for w in res["warm_start"]} == {("rea-zc", "rea", 500, "queries=50", 3),
                                             ("bananas-zc", "bananas", 500, "queries=50", 3)}
    assert "warm_start_search.png" in pngs
    assert {(h["method"], h["device"]) for h in res["hardware_search"]} == {
        (m, d) for m in ("hw-random", "hw-rea", "nsga2")
        for d in ("hw_pixel3_latency", "hw_edgegpu_latency")}
    # Table 3: every proxy and ensemble has a row with ours and the published correlation
    table = {r["proxy"]: r for r in res["display"]["proxies"]["cifar10"]}
    assert len(table) == 15 and table["synflow"]["(c) published ρ / τ (all its archs)"] != "—"
    assert table["params"]["ours vs published scores"] == "exact"
    # like for like: ours and published on the archs both scored (the smoke sample is small,
    # so the verdicts fall back to each side's own set and say so)
    assert re.fullmatch(r"-?\d\.\d{3} / -?\d\.\d{3} \(n=\d+\)",
                        table["synflow"]["(b) shared archs: ours ρ / published ρ"])
    assert table["synflow"]["verdict (ours vs original)"].endswith("(our sample)")
    assert table["synflow"]["verdict (published vs original)"].endswith("(all published)")
    for a in [a for a in res["search"] if a["benchmark"] == "nb201"]:
        # never above the table's optimum, never below a random arch's typical accuracy
        top = {"cifar10": 94.37, "cifar100": 73.51, "ImageNet16-120": 47.31}[a["dataset"]]
        assert 0.85 * top < a["mean"] <= top + 0.01
    # one-shot section: every method's derived cell, the ranking table, Figures 1, 3a, 3b
    (key, one), = res["display"]["oneshot"].items()
    assert key.startswith("smoke/") and key.endswith("/cifar10")
    assert [r["method"] for r in one["methods"]] == [
        "beta-darts", "darts-minus", "darts-v1", "darts-v2", "drnas", "fairdarts", "fairnas",
        "gaea", "gdas", "pc-darts", "pdarts", "rsps", "sdarts-adv", "sdarts-rs", "spos"]
    darts = one["methods"][2]
    assert "54.30±0.00 [ref 18" in darts["published NB201 valid / test"]
    assert {(r["method"], r["estimate"][:9]) for r in one["ranking"]} == {
        ("darts-v1", "inherited"), ("darts-v1", "sum of lo"), ("fairnas", "inherited"),
        ("spos", "inherited")}
    assert all(r["archs"] == 20 for r in one["ranking"])
    assert one["claim_verdict"].split(":")[0] in ("reproduced", "contradicted")
    assert {"oneshot_fig1_smoke_cifar10.png", "oneshot_fig3a_smoke_cifar10.png",
            "oneshot_fig3b_smoke_cifar10.png"} <= set(pngs)
    # the survey's Table 2 and Table 1 regenerated, and the claims audit page
    t2 = {r["method"]: r for r in res["display"]["survey"]["table2"] if r["dataset"] == "cifar10"}
    assert len(t2) == 12 and t2["DARTS (2nd order)"]["configuration"] == "smoke"
    assert t2["GAEA"]["survey (DARTS space, CIFAR-10 error; different search space)"] == \
        "2.50±0.06 %, 8.3 GPU-h"
    assert len(res["display"]["survey"]["table1"]["rows"]) == 6
    verdicts = {c["claim"].split(" ")[0]: c["verdict"] for c in res["display"]["survey"]["claims"]}
    assert len(res["display"]["survey"]["claims"]) >= 30 and verdicts["AmoebaNet"] == "mislabelled"
    assert "Claims audit" in (out / "claims.md").read_text()
    # one page per registered section with content, and an index of pages and headline
    # tables (issue 28)
    from harness.report.sections import SECTIONS

    index = (out / "README.md").read_text()
    pages = sorted(p.name for p in out.glob("*.md") if p.name not in ("README.md",
                                                                      "claims.md"))
    # every section has content in a smoke run but the ladder (the profile names none)
    assert pages == sorted(f"{s.name}.md" for s in SECTIONS if s.name != "ladder")
    assert all(f"]({page})" in index for page in pages)
    assert "## Headline tables" in index and "| bananas " in index
    md = "\n".join((out / page).read_text() for page in pages)
    assert md.count("[Leaderboard index](README.md)") == len(pages)
    assert "SMOKE configuration, not the paper's" in md
    assert "Survey Table 2 regenerated" in md and "Survey Table 1 regenerated" in md
    assert "REINFORCE, NB201 paper [ref 23" in md and "UNVERIFIED" in md
    assert re.search(r"93\.85 ± 0\.37; ours [+-]\d+\.\d\d", md)
    # budget to target: every strategy on every searched dataset, counts within the seeds
    tg = {(r["benchmark"], r["dataset"], r["method"]): r for r in res["targets"]}
    assert {m for b, d, m in tg if (b, d) == ("nb201", "cifar10")} == {
        "random", "rea", "reinforce", "local-search", "bananas", "hyperband", "bohb"}
    assert all(0 <= r["reached_0.1"] <= r["reached_0.5"] <= r["seeds"] for r in tg.values())
    assert tg[("nb201", "cifar10", "rea")]["optimum"] == pytest.approx(94.37, abs=0.01)
    assert "### nb201: budget to target" in md
    # hardware: the table's true fronts for three devices on each NB201 dataset, drawn
    hw = {(r["dataset"], r["device"]): r for r in res["hardware"]}
    assert len(hw) == 9 and hw[("cifar10", "hw_edgegpu_latency")]["most_accurate"]["acc"] \
        == pytest.approx(94.37, abs=0.01)
    assert {"pareto_nb201_cifar10.png", "pareto_nb201_ImageNet16-120.png"} <= set(pngs)
    # regenerating from the same store alone gives the same bytes, the timings folder aside
    from harness.report.manifest import compare, digests

    proc = run_cli("leaderboard", "--store", str(store), "--out", str(tmp_path / "lb2"),
                   "--profile", "smoke", env=env, check=True)
    assert "from 218 rows of profile 'smoke' (0 other stored rows left out)" in proc.stdout
    assert compare(digests(out), digests(tmp_path / "lb2")) == []
    _check_timings_are_apart(out, res)


def test_missing_seeds_are_counted_and_marked(tmp_path, smoke_site):
    """A failed (here: deleted) search seed and one-shot cell: the leaderboard of the plan
    counts the missing cells and marks the group 'n=2 of 3'."""
    import shutil
    import sqlite3

    env, store, _ = smoke_site
    copy = tmp_path / "s.sqlite"
    shutil.copy(store, copy)
    con = sqlite3.connect(copy)
    con.execute("DELETE FROM results WHERE method='rea' AND benchmark='nb201' AND "
                "dataset='cifar10' AND seed=0")
    con.execute("DELETE FROM results WHERE method='gdas'")
    con.commit()
    con.close()
    proc = run_cli("leaderboard", "--store", str(copy), "--out", str(tmp_path / "lb"),
                   "--profile", "smoke", env=env, check=True)
    assert "from 216 rows of profile 'smoke'" in proc.stdout
    md = (tmp_path / "lb" / "README.md").read_text()
    assert "**2 planned cells have no stored row** (failed, or not yet run; first: " in md
    res = json.loads((tmp_path / "lb" / "results.json").read_text())
    rea = next(r for r in res["display"]["search"]["nb201:queries=50"]["ours"]
               if r["method"] == "rea")
    assert rea["cifar10"].endswith("(n=2 of 3)") and rea["cifar100"].endswith("(n=3)")
    assert "<strong>2 planned cells have no stored row</strong>" in (
        tmp_path / "lb" / "index.html").read_text()


def _check_timings_are_apart(out, res: dict) -> None:
    """Every timing is in timings/ (and is there); none in the files that must regenerate
    byte-identically."""
    from harness.report.manifest import digests

    tim = json.loads((out / "timings" / "timings.json").read_text())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", tim["generated"])
    assert re.fullmatch(r"[0-9a-f]{7,40}", tim["git_commits"][0])
    assert len(tim["oneshot"]) == 15 and all(o["search_seconds"] > 0 for o in tim["oneshot"])
    assert {p["proxy"] for p in tim["proxies"]} >= {"synflow", "nwot", "params"}
    assert all(s["median_seconds_per_cell"] >= 0 for s in tim["search"])
    assert tim["table1"]["orders_of_magnitude"] > 2
    assert [c["verdict"] for c in tim["claims"]][0] in ("reproduced", "contradicted")
    assert "Survey Table 1 with our wall-clock costs" in (out / "timings" / "README.md"
                                                          ).read_text()

    def keys(x):
        if isinstance(x, dict):
            for k, v in x.items():
                yield k
                yield from keys(v)
        elif isinstance(x, list):
            for v in x:
                yield from keys(v)

    timed = {k for k in keys(res) if re.search(r"(?<!sim_)second|generated|git_commit|s/arch|"
                                               r"search cost", k)}
    assert not timed, timed
    for rel in digests(out):
        if rel.endswith((".md", ".html", ".json")):
            text = (out / rel).read_text()
            assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), rel
            assert not re.search(r"\d s on cpu|CPU-h on cpu", text), rel


def _check_results_document(res: dict, text: str) -> None:
    """results.json is data: it validates against the schema (ours, and the jsonschema
    package's where installed), numbers are numbers with metric and units, no local path."""
    from harness.report.results import SCHEMA_PATH, validate

    schema = json.loads(SCHEMA_PATH.read_text())
    validate(res, schema)
    try:
        import jsonschema
    except ImportError:
        pass
    else:
        jsonschema.validate(res, schema)
    assert not re.search(r"(?<![\w.])/(tmp|home|work|root)/", text), "a local path"
    prov = res["provenance"]
    assert prov["profile"] == "smoke" and set(prov["data_sha256"]) >= {"nb201"}
    assert re.fullmatch(r"[0-9a-f]{64}", prov["data_sha256"]["nb201"])
    for a in res["search"]:
        lo, hi = a["ci95"]
        assert lo <= a["mean"] <= hi and isinstance(a["n"], int)
        if a["benchmark"] == "nb201":
            assert a["units"] == "percent" and a["metric"].endswith("/test_acc")
    syn = next(p for p in res["proxies"]
               if p["proxy"] == "synflow" and p["dataset"] == "cifar10")
    shown = next(r for r in res["display"]["proxies"]["cifar10"] if r["proxy"] == "synflow")
    assert shown["(a) ours ρ test [95% CI]"].startswith(f"{syn['ours']['spearman']:.3f} [")
    lo, hi = syn["ours"]["spearman_ci95"]
    assert lo <= syn["ours"]["spearman"] <= hi
    assert syn["published"]["n"] > 1000
    assert syn["original_spearman"] == pytest.approx(0.74, abs=0.005)  # Abdelfattah et al.
    one = res["oneshot"]
    assert {o["method"] for o in one} >= {"darts-v1", "spos"}
    assert all(o["units"] == "percent" for o in one)


def test_the_site_in_a_real_browser(smoke_site):
    """index.html in headless Chromium (Debian's chromium + chromium-driver, selenium): no
    console error, every image loads, a click on a header sorts the rows, every contents
    link lands on an anchor. The screenshot is kept as .cache/artefacts/leaderboard-index.png."""
    from tests.helpers import REPO, browser

    _, _, out = smoke_site
    with browser() as driver:
        driver.get((out / "index.html").resolve().as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        broken = driver.execute_script(
            "return Array.from(document.images).filter(function(i){return !(i.complete && "
            "i.naturalWidth > 0);}).map(function(i){return i.src;});")
        assert driver.execute_script("return document.images.length;") >= 8 and not broken
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll('nav a')).map(function(a){"
            "return [a.getAttribute('href'), !!document.getElementById("
            "a.getAttribute('href').slice(1))];});")
        assert len(links) >= 8 and all(ok for _, ok in links), links
        # sort the first search table by its CIFAR-10 column, both ways
        table = driver.find_element("css selector", "table.sortable")
        heads = table.find_elements("css selector", "thead th")
        col = next(i for i, h in enumerate(heads) if h.text.strip() == "cifar10")

        def column():
            return [float(r.find_elements("css selector", "td")[col].text.split()[0])
                    for r in table.find_elements("css selector", "tbody tr")
                    if r.find_elements("css selector", "td")[col].text[:1].isdigit()]

        heads[col].click()
        up = column()
        assert len(up) >= 4 and up == sorted(up)
        heads[col].click()
        assert column() == sorted(up, reverse=True)
        assert heads[col].get_attribute("aria-sort") == "descending"
        cells = table.find_elements("css selector", "td.num")
        assert cells and cells[0].value_of_css_property("text-align") == "right"
        shot = REPO / ".cache" / "artefacts" / "leaderboard-index.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        driver.execute_script("window.scrollTo(0, 0);")
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_figure_names_and_labels():
    from harness.report.results import metric_units
    from harness.report.search_tables import budget_slug, metric_label

    assert budget_slug("sim_seconds=2.691e+06") == "sim-seconds-2691000"
    assert budget_slug("queries=150") == "queries-150"
    sel = [{"dataset": "cifar10", "report_on": "cifar10/test_acc"},
           {"dataset": "autoencoder", "report_on": "autoencoder/test_ssim"}]
    assert metric_label("nb201", "cifar10", sel) == "CIFAR-10 test accuracy (%)"
    assert metric_label("tnb101-micro", "autoencoder", sel) == "autoencoder test SSIM"
    assert [metric_units(m) for m in ("x/test_acc", "test_ssim", "valid_l1_loss",
                                      "test_mIoU", "test_top1")] == [
        "percent", "SSIM (0-1)", "loss", "percent", "percent"]


def test_the_schema_validator_catches_what_it_should():
    from harness.report.results import validate

    schema = {"type": "object", "required": ["a"], "additionalProperties": False,
              "properties": {"a": {"type": "array", "items": {"type": "number"},
                                   "minItems": 2, "maxItems": 2},
                             "p": {"$ref": "#/$defs/t"}},
              "$defs": {"t": {"type": "string", "pattern": "^(?!/tmp/)"}}}
    validate({"a": [1, 2.5]}, schema)
    for bad, why in [({}, "missing 'a'"), ({"a": [1]}, "fewer than 2"),
                     ({"a": [1, "2"]}, "str where number"), ({"a": [1, True]}, "bool where"),
                     ({"a": [1, 2], "b": 1}, "unexpected key 'b'"),
                     ({"a": [1, 2], "p": "/tmp/x.sqlite"}, "does not match")]:
        with pytest.raises(ValueError, match=why):
            validate(bad, schema)


def test_older_method_versions_and_data_are_ignored():
    base = {"kind": "search", "benchmark": "b", "dataset": "d", "budget": "q", "seed": 0,
            "method": "m", "finished": "2026-01-01"}
    rows = [dict(base, method_version="1", data_sha256="old"),
            dict(base, method_version="2", data_sha256="old", finished="2026-01-02"),
            dict(base, method_version="2", data_sha256="new", finished="2026-01-03"),
            dict(base, method_version="1", data_sha256="new", finished="2026-01-04")]
    kept = current_rows(rows)
    assert [(r["method_version"], r["data_sha256"]) for r in kept] == [("2", "new")]


def test_table3_verdicts_use_the_shared_archs_when_there_are_enough():
    from harness.report.proxies import verdict_original

    def row(kind, rho, shared_n=None):
        r = {"kind": kind, "result": {"images": "", "test": {"spearman": rho,
                                                              "spearman_ci": [rho, rho]}}}
        if shared_n is not None:
            r["result"]["shared"] = {"n": shared_n,
                                     "ours": {"spearman": 0.74, "spearman_ci": [0.7, 0.78]},
                                     "published": {"spearman": 0.50, "spearman_ci": [0.45,
                                                                                    0.55]}}
        return r

    ours, pub = row("proxy", 0.40, shared_n=150), row("proxy-published", 0.74)
    # on 150 shared archs ours (0.74) matches the original 0.737, the published (0.50) not,
    # whatever each scores on its own set
    assert verdict_original(ours, 0.737, ours) == "reproduced (shared 150)"
    assert verdict_original(pub, 0.737, ours) == "contradicted (shared 150)"
    few = row("proxy", 0.40, shared_n=99)
    assert verdict_original(few, 0.737, few) == "contradicted (our sample)"
    assert verdict_original(pub, 0.737, few) == "reproduced (all published)"
