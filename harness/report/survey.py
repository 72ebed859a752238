"""Leaderboard pieces for the survey's Table 1, Table 2 and the claims audit page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from harness.report.claims import VERDICTS, audit
from harness.report.survey_tables import table1, table2


def bench_best(benchmark: str, metric: str, dataset: str) -> float | None:
    """A benchmark fact from an already converted table (never converts, never downloads)."""
    import adapters

    path = adapters.cache_path(benchmark)
    if not path.exists():
        return None
    try:
        bench = adapters.open_file(benchmark, path)
        return round(bench.best(metric, dataset), 4)
    except Exception:  # an old or foreign file: no measurement, the verdict says so
        return None


def build_section(rows: list[dict], specs: dict, refs: dict, out: Path) -> dict[str, Any]:
    """Markdown/HTML of Tables 1 and 2 for the main page; writes claims.md / claims.html."""
    from tabulate import tabulate

    t2 = table2(rows, specs, refs)
    t1 = table1(rows, specs, refs, timed=False)  # wall-clock costs: the timings page
    claims = audit(rows, specs, refs, bench_best)
    md: list[str] = []
    hp: list[str] = []
    if t2:
        cap = ("The survey's Table 2 regenerated on NB201 under one protocol: every "
               "variant on the same supernet, data, seeds and budget (configuration column; "
               "the 'reduced' and 'smoke' ones are not the papers'). Search costs are "
               "wall-clock time on this machine: they are on the timings page. Skip collapse "
               "is "
               "measured on the derived cells (>= 3 of 6 skip edges on most seeds) and on the "
               "mean skip weight over the epochs. The survey's numbers are CIFAR-10 errors in "
               "the DARTS space, a different search space.")
        md += ["### Survey Table 2 regenerated: DARTS variants on NB201", "", cap, "",
               tabulate(t2, headers="keys", tablefmt="github"), ""]
        hp += ["<h3>Survey Table 2 regenerated: DARTS variants on NB201</h3>"
               f"<p>{html.escape(cap)}</p>", tabulate(t2, headers="keys", tablefmt="html")]
    cap = ("The survey's Table 1 (search cost per paradigm) with the originals' costs and "
           "units (reference file) and what the same paradigm cost us on this harness where "
           "that cost is a property of the table (simulated GPU-hours of the tables' training "
           "times); wall-clock costs, the span of orders of magnitude and its claim are on "
           "the timings page (timings/README.md, timings/index.html).")
    md += ["### Survey Table 1 regenerated: search cost per paradigm", "", cap, "",
           tabulate(t1["rows"], headers="keys", tablefmt="github"), "",
           "The claims audit of every number the survey prints: [claims.md](claims.md).", ""]
    hp += ["<h3>Survey Table 1 regenerated: search cost per paradigm</h3>"
           f"<p>{html.escape(cap)}</p>", tabulate(t1["rows"], headers="keys",
                                                   tablefmt="html"),
           '<p>The claims audit: <a href="claims.html">claims.html</a>.</p>']
    counts = {v: sum(c["verdict"] == v for c in claims) for v in (*VERDICTS, "timed")}
    intro = ("Every numeric claim of the survey that the reference file covers (Tables 1-3 "
             "and the text), with the survey's value, the original and its status, our "
             "measured value where the harness measures one, and a verdict computed by rule "
             "(harness/report/claims.py): "
             + ", ".join(f"{n} {v}" for v, n in counts.items() if v != "timed")
             + (f"; {counts['timed']} judged on wall-clock time, on the timings page "
                "(timings/README.md)" if counts["timed"] else "") + ".")
    (out / "claims.md").write_text("# Claims audit\n\n" + intro + "\n\n" + tabulate(
        claims, headers="keys", tablefmt="github") + "\n")
    (out / "claims.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Claims audit</title>"
        "<style>body{font-family:sans-serif;max-width:1300px;margin:auto}table{border-"
        "collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}"
        "</style></head><body><h1>Claims audit</h1>"
        f"<p>{html.escape(intro)}</p>" + tabulate(claims, headers="keys", tablefmt="html")
        + "</body></html>\n")
    return {"markdown": "\n".join(md), "html": "\n".join(hp),
            "tables": {"table1": t1, "table2": t2, "claims": claims}}
