"""Leaderboard generation from the results store only: Markdown, HTML, PNG, JSON.

Rows of older method versions or older data (another content sha256) are ignored. Published
numbers come from ``leaderboard/reference_numbers.json`` via ``leaderboard/specs.json``;
only VERIFIED rows are shown as references.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import ConfigError
from harness.report.base import SPEC_DIR, load_specs, mean_ci, parse_pm  # noqa: F401


def current_rows(rows: list[dict], registry=None) -> list[dict]:
    """Keep rows of each method's current version and each benchmark's newest data."""
    newest_data: dict[str, tuple[str, str]] = {}
    for r in rows:
        b = r["benchmark"]
        if b not in newest_data or r["finished"] > newest_data[b][0]:
            newest_data[b] = (r["finished"], r["data_sha256"])
    versions: dict[str, str] = {}
    for r in rows:
        m = r["method"]
        cur = None
        if registry is not None and m in registry.entries:
            try:
                cur = registry.get(m).version
            except Exception:
                cur = None
        versions[m] = cur or max(versions.get(m, ""), r["method_version"])
    return [r for r in rows if r["data_sha256"] == newest_data[r["benchmark"]][1]
            and r["method_version"] == versions[r["method"]]]


def aggregate_search(rows: list[dict]) -> list[dict[str, Any]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "search":
            groups[(r["benchmark"], r["dataset"], r["method"], r["budget"])].append(r)
    out = []
    for (b, d, m, budget), rs in sorted(groups.items()):
        test = np.array([r["test_value"] for r in rs])
        srch = np.array([r["search_value"] for r in rs])
        mean, std, half = mean_ci(test)
        out.append({"benchmark": b, "dataset": d, "method": m, "budget": budget,
                    "n_seeds": len(rs), "test_mean": mean, "test_std": std, "test_ci95": half,
                    "search_mean": float(srch.mean()), "search_on": rs[0]["search_on"],
                    "report_on": rs[0]["report_on"], "note": rs[0]["note"],
                    "method_version": rs[0]["method_version"],
                    "data_sha256": rs[0]["data_sha256"],
                    "queries_mean": float(np.mean([r["queries_used"] for r in rs]))})
    return out


def figure_caption(path: str) -> str:
    """A caption for a figure the proxy and one-shot sections draw, from its file name."""
    stem = Path(path).stem
    parts = stem.split("_")
    if stem.startswith("proxy_gap_"):
        return (f"Proxy gap ({stem[10:]}), survey Figure 3c: rank-normalised score of the best "
                "ensemble and the best single proxy against rank-normalised test accuracy, "
                "with the diagonal")
    if stem.startswith("proxy_tasks_"):
        return (f"Spearman ρ of each zero-cost proxy with each {stem[12:]} task's test "
                "metric: rankings change across tasks")
    if stem.startswith("pareto_"):
        return (f"{parts[1]} {parts[2]}: test accuracy against each device's cost for every "
                "arch (grey) and the true Pareto front (red steps)")
    if stem.startswith("oneshot_fig1_"):
        return (f"Survey Figure 1 ({parts[2]} configuration, {parts[3]}): architecture weight "
                "of each operation over epochs, mean over the six edges")
    if stem.startswith("oneshot_ladder_"):
        return (f"Fidelity ladder of {stem[15:]} (REDUCED CPU configurations): skip edges and "
                "table accuracy of the derived cell per rung and seed, and the mean skip "
                "weight over supernet steps")
    if stem.startswith(("oneshot_fig3a_", "oneshot_fig3b_")):
        kind = "weight-sharing supernets" if "fig3a" in stem else "the DARTS relaxation"
        return (f"Survey Figure {parts[1][3:]} ({parts[2]} configuration, {parts[3]}): the "
                f"estimate of {kind} for each sampled arch against its table test accuracy")
    return stem.replace("_", " ")


def build(store, out_dir: str | Path, registry=None, spec_dir: Path = SPEC_DIR,
          profile: str | None = None, plan=None, ladder: list[str] | None = None
          ) -> dict[str, Any]:
    """Write README.md, index.html, claims.*, results.json, figures/*.png and the timings
    folder into ``out_dir`` (``profile``: the name recorded in results.json's provenance;
    ``ladder``: the methods whose fidelity ladder to show, the profile's ``oneshot.ladder``).

    ``plan`` (a :class:`harness.run.plan.Plan` or None): build from the rows of the planned
    cells only, and mark groups with fewer stored seeds than planned. The returned document
    carries ``_store`` (rows used and left out), which is not written: it depends on the
    store's history, and the written files must not."""

    out = Path(out_dir)
    if not out.parent.exists():
        raise ConfigError(f"--out {out}: folder {out.parent} does not exist")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for old in (out / "figures").glob("*.png"):  # figures of a previous build
        old.unlink()
    rows = current_rows(store.rows(), registry)
    outside = 0
    if plan is not None:
        rows, outside = plan.select(rows)
    if not rows:
        raise ConfigError(f"store {store.path} has no results; run 'python -m harness run "
                          "--all' first")
    specs, refs = load_specs(spec_dir)
    from harness.report import pareto, training_free, warm_start

    search_rows = [r for r in rows if not training_free.is_training_free(r)
                   and not pareto.is_hardware(r) and not warm_start.is_warm_start(r)]
    agg = aggregate_search(search_rows)
    from harness.report.sections import SECTIONS, ReportInputs, write_pages

    inputs = ReportInputs(rows, search_rows, agg, specs, refs, out, plan, ladder)
    parts = {sec.name: sec.build(inputs) for sec in SECTIONS}
    sections_html = [parts[s.name]["html"] for s in SECTIONS
                     if parts[s.name]["markdown"] or s.always]
    figures = [f for s in SECTIONS for f in parts[s.name].get("figures", [])
               if parts[s.name]["markdown"]]
    captions = {k: v for p in parts.values() for k, v in p.get("captions", {}).items()}
    generated = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    from harness.report import results as results_doc
    from harness.report import timings
    from harness.report.survey import bench_best

    data_sha = sorted({r["data_sha256"] for r in rows})
    header = ("# nas-harness leaderboard\n\nRegenerated from the results store by "
              "`python -m harness leaderboard` (also at the end of `run --all`). Published "
              "numbers appear only where the reference file marks them VERIFIED; `ours ±x` "
              "is our mean minus the published mean. Budgets and protocols of published "
              "numbers can differ from ours: see each table's caption. NAS-Bench-101 has no "
              "full table in the shared data (only 30 real cells, used as test fixtures); "
              "after `python -m harness data convert nb101 --from nasbench_only108.tfrecord` "
              "it is included by `run --all`.\n\n"
              f"Rows used: {len(rows)}; data sha256: "
              f"{', '.join(s[:12] for s in data_sha)}. Everything here regenerates "
              "byte-identically from a fresh run of the same profile except the timings "
              f"page, which holds every wall-clock number and when this was generated: "
              f"[{timings.FOLDER}/README.md]({timings.FOLDER}/README.md).\n")
    missing = plan.missing(rows) if plan is not None else []
    if missing:
        header += (f"\n**{len(missing)} planned cells have no stored row** (failed, or not "
                   f"yet run; first: {missing[0]}); a group with fewer seeds than planned "
                   "says 'n=k of N'. Run the same command again to retry them.\n")
    write_pages(parts, header, out)
    for f in figures:
        captions.setdefault(f, figure_caption(f))
    from harness.report.site import page

    intro = header.split(chr(10), 2)[2]
    link = f"[{timings.FOLDER}/README.md]({timings.FOLDER}/README.md)"
    intro_html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(intro)).replace(
        html.escape(link), f'<a href="{timings.FOLDER}/index.html">{timings.FOLDER}/</a>')
    (out / "index.html").write_text(page("nas-harness leaderboard", intro_html, sections_html,
                                         captions))
    results = results_doc.document(
        rows, agg, parts["proxies"]["records"],
        [{"path": f, "caption": captions.get(f, Path(f).stem.replace("_", " "))}
         for f in figures],
        {"search": parts["search"]["tables"], "proxies": parts["proxies"]["tables"],
         "oneshot": parts["oneshot"]["tables"], "survey": parts["survey"]["tables"],
         **({"ladder": parts["ladder"]["tables"]} if parts["ladder"]["tables"] else {})},
        profile, parts["targets"]["records"], parts["hardware"]["records"],
        parts["training-free"]["records"], parts["hardware"]["found"],
        parts["warm-start"]["records"])
    (out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    from harness.core.runlog import first_run_seconds, read_runs

    timings.build(rows, specs, refs, out, generated, bench_best,
                  first_run_seconds(read_runs(store.path)))
    results["_store"] = {"rows_used": len(rows), "rows_outside_plan": outside}
    return results
