"""The leaderboard's timings page, ``timings/``: every number that depends on the machine or
the moment it ran, and nothing else.

Wall-clock seconds (search cells, proxy seconds per arch, one-shot search and epoch times,
Table 2's search cost), the survey's Table 1 with the costs we measured in wall-clock time
and the span of orders of magnitude it claims, the claims judged on those costs, when the
leaderboard was generated and from which commits its rows came. Keeping them here is what
lets the rest of ``leaderboard/`` regenerate byte-identically from a fresh run of the same
profile (``python -m harness verify`` checks it for the smoke profile); this folder is the
one part that differs between two runs. Written as ``README.md`` (GitHub), ``index.html``
(the site) and ``timings.json`` (data).
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

#: the folder of the leaderboard that holds every timing (excluded from reproducibility
#: checks, and only it)
FOLDER = "timings"


def _median(xs: list[float]) -> float | None:
    xs = [float(x) for x in xs if x is not None and np.isfinite(x)]
    return round(float(np.median(xs)), 3) if xs else None


def search_times(rows: list[dict]) -> list[dict[str, Any]]:
    """Median and total wall-clock seconds of the search cells per (benchmark, dataset,
    budget, method)."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "search" and r.get("wall_seconds") is not None:
            groups[(r["benchmark"], r["dataset"], r["budget"], r["method"])].append(
                float(r["wall_seconds"]))
    return [{"benchmark": b, "dataset": d, "budget": bud, "method": m, "cells": len(w),
             "median_seconds_per_cell": _median(w), "total_seconds": round(sum(w), 2)}
            for (b, d, bud, m), w in sorted(groups.items())]


def proxy_times(rows: list[dict]) -> list[dict[str, Any]]:
    """Median seconds per arch of each proxy (the survey's Table 3 cost column)."""
    from harness.report.base import latest

    return [{"benchmark": b, "dataset": d, "proxy": m, "device": r["device"],
             "seconds_per_arch": _median([r["result"].get("median_seconds")])}
            for (b, d, m), r in sorted(latest(rows, "proxy").items())]


def oneshot_times(rows: list[dict]) -> list[dict[str, Any]]:
    """Search seconds, seconds per epoch and derivation seconds of the one-shot cells per
    (configuration, dataset, method), medians over seeds (Table 2's search cost)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "oneshot":
            groups[(r["result"]["configuration"], r["dataset"], r["method"])].append(
                r["result"])
    out = []
    for (conf, d, m), res in sorted(groups.items()):
        out.append({"configuration": conf, "dataset": d, "method": m, "seeds": len(res),
                    "device": res[0]["device"],
                    "search_seconds": _median([x["search_seconds"] for x in res]),
                    "seconds_per_epoch": _median([x.get("seconds_per_epoch") for x in res]),
                    "derive_seconds": _median([x.get("derive_seconds") for x in res]),
                    "gpu_hours": _median([x.get("gpu_hours") for x in res])})
    return out


def document(rows: list[dict], specs: dict, refs: dict, generated: str,
             bench_best=None) -> dict[str, Any]:
    """Everything of the timings page as data."""
    from harness.report.claims import audit
    from harness.report.survey_tables import table1

    return {
        "generated": generated,
        "git_commits": sorted({r["git_commit"] for r in rows}),
        "rows_started": min(r["started"] for r in rows),
        "rows_finished": max(r["finished"] for r in rows),
        "search": search_times(rows), "proxies": proxy_times(rows),
        "oneshot": oneshot_times(rows),
        "table1": table1(rows, specs, refs, timed=True),
        "claims": audit(rows, specs, refs, bench_best, timed=True),
    }


def _sections(doc: dict) -> list[tuple[str, str, list[dict]]]:
    """(heading, caption, table rows) of the page."""
    secs = []
    first = doc.get("first_run_seconds")
    if first:
        secs.append((
            "The first run, stage by stage",
            f"Wall-clock seconds of this store's first run (started {first['started']} on "
            f"{first['host']}, {first.get('cpu', 'not recorded')}, {first['cores']} usable "
            f"cores, {first['invocations']} "
            f"invocation(s){'' if first['complete'] else ', not finished yet'}), from the "
            "store's run log; the leaderboard's own build is not included (it was being "
            "written).",
            [{"stage": k, "seconds": v, "minutes": round(v / 60, 1)}
             for k, v in first["stages"].items()]
            + [{"stage": "total", "seconds": first["total"],
                "minutes": round(first["total"] / 60, 1)}]))
    span = doc["table1"]["orders_of_magnitude"]
    secs.append(("Survey Table 1 with our wall-clock costs",
                 "What each paradigm cost us (simulated GPU-hours of the tables' training "
                 "times for RL/evolution; CPU- or GPU-hours measured on this machine for the "
                 "rest). " + (f"Our costs span {span:.1f} orders of magnitude; the survey's "
                              "column spans 48,000 to 0.01 GPU-h, 6.7 orders, but mixes "
                              "GPU-days into it (see the claims audit)." if span else
                              "Too few paradigms were measured to compare the span."),
                 doc["table1"]["rows"]))
    if doc["claims"]:
        secs.append(("Claims judged on wall-clock costs",
                     "The survey's claims whose measured value is a wall-clock cost, judged "
                     "by the claims audit's rule (harness/report/claims.py).", doc["claims"]))
    if doc["oneshot"]:
        secs.append(("One-shot search cost (survey Table 2's cost column)",
                     "Medians over seeds: the whole search (epochs and derivation), one "
                     "epoch, the derivation; GPU-hours where it ran on a GPU.",
                     doc["oneshot"]))
    if doc["proxies"]:
        secs.append(("Zero-cost proxies: seconds per arch (survey Table 3's cost)",
                     "Median seconds of one proxy on one arch, network built and scored.",
                     doc["proxies"]))
    if doc["search"]:
        secs.append(("Search strategies: wall-clock seconds per cell",
                     "Queries are table lookups: these are the harness's own overhead.",
                     doc["search"]))
    return secs


def build(rows: list[dict], specs: dict, refs: dict, out: Path, generated: str,
          bench_best=None, first_run: dict | None = None) -> dict[str, Any]:
    """Write ``out/timings/{README.md,index.html,timings.json}``; the document.
    ``first_run``: the store's first run per stage (:func:`harness.core.runlog.
    first_run_seconds`), None if its run log holds none."""
    from tabulate import tabulate

    from harness.report.site import page

    doc = document(rows, specs, refs, generated, bench_best)
    doc["first_run_seconds"] = first_run
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    intro = (f"Generated {doc['generated']} from {len(doc['git_commits'])} commit(s) "
             f"({', '.join(c[:10] for c in doc['git_commits'])}); rows computed between "
             f"{doc['rows_started']} and {doc['rows_finished']}. Every number on this page "
             "depends on the machine or the moment; everything else in the leaderboard "
             "regenerates byte-identically from a fresh run of the same profile.")
    md = ["# nas-harness leaderboard: timings", "", intro, ""]
    hp = []
    for title, cap, table in _sections(doc):
        md += [f"## {title}", "", cap, "", tabulate(table, headers="keys", tablefmt="github"),
               ""]
        hp.append(f"<h3>{html.escape(title)}</h3><p>{html.escape(cap)}</p>"
                  + tabulate(table, headers="keys", tablefmt="html"))
    (folder / "README.md").write_text("\n".join(md))
    (folder / "index.html").write_text(page(
        "nas-harness leaderboard: timings",
        html.escape(intro) + ' <a href="../index.html">Back to the leaderboard</a>.', hp, {}))
    (folder / "timings.json").write_text(json.dumps(doc, indent=1, sort_keys=True,
                                                    allow_nan=False) + "\n")
    return doc
