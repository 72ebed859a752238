"""Budget to target: how much of its budget each search strategy needs before its incumbent
is within 0.1 and 0.5 of the table's optimum, and on how many seeds it gets there at all.

The incumbent is the arch with the best search metric so far (what the search tables
report); its reported (test) metric is compared with the best value of that metric in the
converted table. Accuracies are in percent, so the margins are percentage points; other
metrics (SSIM, losses) use 0.1% and 0.5% of the optimum's magnitude. The budget spent is
counted in queries, or in the table's simulated training seconds where the search ran on a
time budget. Everything comes from the stored trajectories and the table: no timing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

MARGINS = (0.1, 0.5)


def table_best(benchmark: str, report_on: str) -> tuple[float, bool] | None:
    """(best value of the reported metric in the benchmark's table, higher is better), or
    None when the table cannot be opened here."""
    try:
        from harness.core.cellbase import _get_bench

        bench = _get_bench(benchmark)
        ds, _, metric = report_on.partition("/")
        col = bench.query(np.arange(bench.num_archs, dtype=np.int64), metric, ds)
        higher = bool(bench.h5.metric_attrs(ds, metric).get("higher_is_better", True))
        return float(np.nanmax(col) if higher else np.nanmin(col)), higher
    except Exception:  # no converted table here: no target, the other numbers stand
        return None


def _spent_to_reach(traj: dict, target: float, higher: bool, timed: bool) -> float | None:
    """Queries (or simulated seconds) spent when the incumbent first meets ``target``."""
    inc = np.asarray(traj["incumbent_test"], dtype=float)
    ok = inc >= target if higher else inc <= target
    if not ok.any():
        return None
    i = int(np.argmax(ok))
    return float(traj["sim_seconds"][i] if timed else traj["queries"][i])


def rows_for(rows: list[dict], best=table_best) -> list[dict[str, Any]]:
    """One row per (benchmark, dataset, budget, method) of the search rows."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "search" and r["result"].get("trajectory"):
            groups[(r["benchmark"], r["dataset"], r["budget"], r["method"])].append(r)
    out = []
    optima: dict[tuple[str, str], tuple[float, bool] | None] = {}
    for (b, d, budget, m), rs in sorted(groups.items()):
        on = rs[0]["report_on"]
        if (b, on) not in optima:
            optima[(b, on)] = best(b, on)
        if optima[(b, on)] is None:
            continue
        opt, higher = optima[(b, on)]
        timed = budget.startswith("sim_seconds")
        pct = rs[0]["report_on"].rsplit("/", 1)[-1].endswith(("acc", "top1", "mIoU"))
        row: dict[str, Any] = {"benchmark": b, "dataset": d, "method": m, "budget": budget,
                               "metric": on, "optimum": round(opt, 4),
                               "unit": "simulated seconds" if timed else "queries",
                               "seeds": len(rs)}
        for margin in MARGINS:
            gap = margin if pct else margin / 100 * abs(opt)
            target = opt - gap if higher else opt + gap
            spent = [_spent_to_reach(r["result"]["trajectory"], target, higher, timed)
                     for r in rs]
            hit = [s for s in spent if s is not None]
            row[f"reached_{margin}"] = len(hit)
            row[f"median_{margin}"] = float(np.median(hit)) if hit else None
        out.append(row)
    return out


def _cell(row: dict, margin: float) -> str:
    n, med = row[f"reached_{margin}"], row[f"median_{margin}"]
    if not n:
        return f"0/{row['seeds']}"
    return f"{n}/{row['seeds']}: {med:,.0f}"


def section(rows: list[dict], best=table_best) -> dict[str, Any]:
    """Markdown and HTML of the budget-to-target tables (one per benchmark), and the data."""
    import html

    from tabulate import tabulate

    data = rows_for(rows, best)
    md: list[str] = []
    hp: list[str] = []
    for b in sorted({r["benchmark"] for r in data}):
        sel = [r for r in data if r["benchmark"] == b]
        unit = " or ".join(sorted({r["unit"] for r in sel}))
        table = [{"dataset": r["dataset"], "method": r["method"], "budget": r["budget"],
                  "optimum": f"{r['optimum']:g}",
                  **{f"within {m}: seeds, median spent": _cell(r, m) for m in MARGINS}}
                 for r in sel]
        title = f"{b}: budget to target"
        cap = (f"How much of its budget ({unit}) each strategy spends before its incumbent's "
               "reported metric is within 0.1 and 0.5 of the table's optimum (percentage "
               "points for accuracies; 0.1% and 0.5% of the optimum otherwise), as 'seeds "
               "that got there / seeds: median spent among them'. The incumbent is chosen "
               "by the search metric, so a strategy can hold the optimum's neighbour forever.")
        md += [f"### {title}", "", cap, "", tabulate(table, headers="keys", tablefmt="github"),
               ""]
        hp += [f"<h3>{html.escape(title)}</h3><p>{html.escape(cap)}</p>",
               tabulate(table, headers="keys", tablefmt="html")]
    return {"markdown": "\n".join(md), "html": "\n".join(hp), "records": data}
