"""Proxy-warm-started search against cold starts (Abdelfattah et al., ICLR 2021, zero-cost
warmup): per (benchmark, dataset, warm method, pool), the reported (test) accuracy of the
incumbent after the same number of trained archs as the cold-started strategy it warms
(its ``warm_start_of``), how many seeds came within 0.1 of the table's optimum and how
fast, and a figure of the mean trajectories. What scoring the pool cost is measured, so it
stays in the rows (``scoring_seconds``), out of this byte-reproducible page.

Warm-start rows are search rows whose result names ``warm_start_of``; the search tables
leave them out (their budget also scores a pool), this section sets them beside the cold
rows of the same budget (queries or simulated seconds).
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.report.base import mean_ci, save_figure

#: within this many points of the table's optimum counts as reaching it
MARGIN = 0.1


def is_warm_start(row: dict) -> bool:
    """Whether a stored row is a proxy-warm-started search."""
    return row["kind"] == "search" and bool(row["result"].get("warm_start_of"))


def _parts(budget: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in budget.split(","))


def _reach(rows: list[dict], target: float | None) -> tuple[int, float | None]:
    """(seeds whose incumbent came within MARGIN of the optimum, median queries taken)."""
    if target is None:
        return 0, None
    spent = []
    for r in rows:
        inc = np.asarray(r["result"]["trajectory"]["incumbent_test"], dtype=float)
        hit = np.flatnonzero(inc >= target)
        if len(hit):
            spent.append(int(hit[0]) + 1)
    return len(spent), (float(np.median(spent)) if spent else None)


def section(rows: list[dict], out: Path, best=None) -> dict[str, Any]:
    """Markdown, HTML, figures and records of the warm-start rows (empty if none)."""
    from harness.report.targets import table_best

    best = best or table_best
    warm: dict[tuple, list[dict]] = defaultdict(list)
    cold: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if is_warm_start(r):  # "queries=150,scored=3000,scores=synflow": budget "queries=150"
            base, _, rest = r["budget"].partition(",scored=")
            n, _, table = rest.partition(",scores=")
            warm[(r["benchmark"], r["dataset"], r["method"], r["result"]["warm_start_of"],
                  base, int(n), table)].append(r)
        elif r["kind"] == "search" and set(_parts(r["budget"])) <= {"queries", "sim_seconds"}:
            cold[(r["benchmark"], r["dataset"], r["method"], r["budget"])].append(r)
    if not warm:
        return {"markdown": "", "html": "", "figures": [], "records": []}
    records, table_rows, pairs = [], [], []
    for (b, d, m, of, q, n, table), ws in sorted(warm.items()):
        cs = cold.get((b, d, of, q), [])
        opt = best(b, ws[0]["report_on"])
        target = opt[0] - MARGIN if opt and opt[1] else None
        wm, wsd, _ = mean_ci([r["test_value"] for r in ws])
        rec: dict[str, Any] = {
            "benchmark": b, "dataset": d, "method": m, "warm_start_of": of, "budget": q,
            "scored": n, "scores": table, "seeds": len(ws), "test_mean": round(wm, 4),
            "test_std": round(wsd, 4), "report_on": ws[0]["report_on"]}
        hits, med = _reach(ws, target)
        rec["within_margin"] = {"margin": MARGIN, "seeds": hits, "median_queries": med}
        cold_text, delta, reach_cold = "— (no cold rows)", "—", "—"
        if cs:
            cm, csd, _ = mean_ci([r["test_value"] for r in cs])
            chits, cmed = _reach(cs, target)
            rec["cold"] = {"method": of, "seeds": len(cs), "test_mean": round(cm, 4),
                           "test_std": round(csd, 4),
                           "within_margin": {"seeds": chits, "median_queries": cmed}}
            cold_text = f"{of}: {cm:.2f} ± {csd:.2f} ({len(cs)})"
            delta = f"{wm - cm:+.2f}"
            reach_cold = _reach_text(chits, len(cs), cmed)
            pairs.append((b, d, m, of, ws, cs))
        records.append(rec)
        table_rows.append({
            "benchmark/dataset": f"{b}/{d}", "warm start": f"{m}: top of {n:,} by {table}",
            "budget": q, "warm: test (seeds)": f"{wm:.2f} ± {wsd:.2f} ({len(ws)})",
            "cold start: test (seeds)": cold_text, "warm − cold": delta,
            f"seeds within {MARGIN} of optimum (median queries), warm / cold":
                f"{_reach_text(hits, len(ws), med)} / {reach_cold}"})
    from tabulate import tabulate

    caption = (
        "Proxy-warm-started search (zero-cost warmup, Abdelfattah et al. ICLR 2021): a pool "
        "of N uniformly random archs is scored with the named score table (no training: "
        "'synflow' is our synflow proxy on every arch of the space, built once by the "
        "harness), the best-scored become the initial population / design, then the "
        "strategy runs as usual; cold = the same strategy from random archs, same budget "
        "(queries, or simulated seconds). Mean ± std over seeds of the incumbent's "
        "reported (test) accuracy; within "
        f"{MARGIN} = the incumbent came within {MARGIN} points of the table's optimum. "
        "Scoring the pool costs N × the table's measured median seconds per arch (each row "
        "records it; timings stay out of this page, which regenerates byte-identically), "
        "charged to the simulated seconds where the table has training times.")
    fig = _figure(pairs, out)
    title = "Proxy-warm-started search vs cold starts"
    md = [f"### {title}", "", caption, "",
          tabulate(table_rows, headers="keys", tablefmt="github"), ""]
    hp = [f"<h3>{title}</h3><p>{html.escape(caption)}</p>",
          tabulate(table_rows, headers="keys", tablefmt="html")]
    if fig:
        md += [f"![warm vs cold starts]({fig})", ""]
        hp.append(f'<img src="{html.escape(fig)}" alt="warm vs cold starts" width="720">')
    return {"markdown": "\n".join(md), "html": "\n".join(hp),
            "figures": [fig] if fig else [], "records": records}


def _reach_text(hits: int, seeds: int, med: float | None) -> str:
    return f"{hits}/{seeds}" + (f" ({med:g})" if med is not None else "")


def _figure(pairs: list, out: Path) -> str | None:
    """Mean incumbent test accuracy against queries, warm vs cold, one panel per dataset."""
    if not pairs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({(b, d) for b, d, *_ in pairs})
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (b, d) in zip(axes[0], panels, strict=True):
        low = float("inf")
        for i, (_b, _d, m, of, ws, cs) in enumerate(p for p in pairs if p[:2] == (b, d)):
            for rs, name, style in ((ws, m, "-"), (cs, of, "--")):
                n = min(len(r["result"]["trajectory"]["incumbent_test"]) for r in rs)
                curve = np.mean([r["result"]["trajectory"]["incumbent_test"][:n] for r in rs],
                                axis=0)
                ax.plot(np.arange(1, n + 1), curve, style, color=f"C{i}", label=name)
                low = min(low, float(curve[min(9, n - 1)]))
        ax.set_ylim(bottom=low)  # from the 10th query: the first ones would flatten the rest
        ax.set_title(f"{b}/{d}", fontsize=9)
        ax.set_xlabel("queries (archs trained)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("mean incumbent test accuracy (%)")
    return "figures/" + save_figure(fig, out / "figures", "warm_start_search.png")
