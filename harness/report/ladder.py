"""Leaderboard section "fidelity ladder": what a one-shot method finds as its CPU search
configuration grows (issue 25, item 3) -- skip edges and table accuracy of the derived cell
per rung and seed, and the mean skip_connect weight over training steps.

The records come from ``python -m harness ladder`` (:mod:`harness.run.ladder`): those
shipped with the package (:data:`SHIPPED`, measured on the project's 2-core CPU machine) and
those measured here in the cache home. A profile shows the section when its
``oneshot.ladder`` names the methods to show (the caller passes them); ``run --all`` does
not rerun the ladder (a rung costs up to an hour of CPU per seed), so the caption says where
each record was measured.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.report.base import save_figure

#: ladder records measured on the project's 2-core CPU machine, shipped with the package
SHIPPED = Path(__file__).with_name("ladder_records")
#: what the NB201 paper found at its configuration, beside a method's ladder
PUBLISHED = {
    "darts-v1": "The NB201 paper reports the all-skip cell (54.30 % test) for DARTS-V1 in "
                "every run at C=16, N=5, 25,000 images, 50 epochs (19,500 steps). ",
    "gdas": "The NB201 paper reports GDAS at 93.61 ± 0.09 % test on CIFAR-10 (C=16, N=5, "
            "25,000 images, 240 epochs): no collapse. ",
}
#: skip edges of 6 that count as the collapse the NB201 paper reports (all-skip cell)
COLLAPSE_EDGES = 5
#: seeds of 3 that must collapse for a rung to reproduce it
COLLAPSE_SEEDS = 2


def records(method: str, shipped: Path | None = None, home: Path | None = None
            ) -> tuple[list[dict], dict[str, int]]:
    """(records of ``method``, how many came from each source); here-measured records
    replace shipped ones of the same rung and seed."""
    from harness.core.ladder_records import home_records, read_records

    shipped = shipped if shipped is not None else SHIPPED / f"{method}.jsonl"
    home = home if home is not None else home_records(method)
    ship = {(r["rung"], r["seed"]) for r in read_records(shipped)}
    recs = [r for r in read_records(shipped, home) if r["method"] == method]
    here = sum(1 for r in read_records(home) if r["method"] == method)
    return recs, {"shipped": len(ship), "here": here}


def rung_table(recs: list[dict]) -> list[dict[str, Any]]:
    """One row per rung, cheapest (fewest supernet-steps x width x depth) first."""
    by: dict[str, list[dict]] = defaultdict(list)
    for r in recs:
        by[r["rung"]].append(r)
    rows = []
    for rung, rs in sorted(by.items(), key=lambda kv: (_cost(kv[1][0]), kv[0])):
        rs.sort(key=lambda r: r["seed"])
        skips = [r["skip_edges"] for r in rs]
        collapsed = sum(s >= COLLAPSE_EDGES for s in skips)
        steps = rs[0]["steps"]
        row = {"rung": rung, "steps": steps, "seeds": len(rs),
               "skip edges per seed": " ".join(str(s) for s in skips),
               # single-path methods (SPOS, FairNAS) have no architecture weights
               "mean skip weight at the end": " ".join(
                   f"{r['per_epoch'][-1]['skip_weight']:.4f}" if r.get("per_epoch") else "—"
                   for r in rs),
               "derived-cell test acc": " ".join(f"{r['test_value']:.2f}" for r in rs),
               "s/step": f"{np.median([r['seconds'] / max(1, r['steps']) for r in rs]):.2f}",
               "collapse (≥5 of 6 skip edges)": f"{collapsed}/{len(rs)}" + (
                   " — reproduced" if collapsed >= COLLAPSE_SEEDS else "")}
        taus = [r["ranking"]["supernet_vs_test"]["kendall"] for r in rs if r.get("ranking")]
        if taus:
            row["supernet Kendall τ"] = " ".join(f"{t:.2f}" for t in taus)
        rows.append(row)
    return rows


def _cost(r: dict) -> float:
    return float(r["steps"]) * r["C"] * r["N"] * r.get("batch_size", 64)


def figure(recs: list[dict], method: str, out: Path) -> str | None:
    """(a) skip edges of the derived cell per rung and seed, (b) its table accuracy, (c) the
    mean skip weight over supernet steps of every record."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not any(r.get("per_epoch") for r in recs):
        return None  # single-path methods: no architecture weights to draw (the table has τ)
    rungs = [row["rung"] for row in rung_table(recs)]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r in sorted(recs, key=lambda r: (rungs.index(r["rung"]), r["seed"])):
        i = rungs.index(r["rung"])
        dx = 0.08 * (r["seed"] - 1)
        c = colours[i % len(colours)]
        axes[0].plot(i + dx, r["skip_edges"], "o", color=c)
        axes[1].plot(i + dx, r["test_value"], "o", color=c)
        per = r["per_epoch"]
        steps = [e["epoch"] * r["steps"] / r["epochs"] for e in per]
        axes[2].plot(steps, [e["skip_weight"] for e in per], color=c, lw=1,
                     label=f"{r['rung']}" if r["seed"] == min(
                         x["seed"] for x in recs if x["rung"] == r["rung"]) else None)
    axes[0].axhline(COLLAPSE_EDGES, color="red", ls="--", lw=1,
                    label=f"collapse (≥{COLLAPSE_EDGES} of 6)")
    axes[0].set(ylim=(-0.3, 6.3), ylabel="skip edges of the derived cell",
                title=f"(a) {method}: skip edges per seed")
    axes[1].set(ylabel="derived cell's table test accuracy (%)",
                title="(b) what the derived cell is worth")
    for ax in axes[:2]:
        ax.set_xticks(range(len(rungs)))
        ax.set_xticklabels([x.replace(",", "\n") for x in rungs], fontsize=7)
    axes[0].legend(fontsize=8, loc="upper left")
    axes[2].axhline(0.2, color="grey", ls=":", lw=1)
    axes[2].set(xlabel="supernet steps", ylabel="mean skip_connect softmax weight",
                title="(c) skip weight during the search (uniform = 0.2)")
    axes[2].legend(fontsize=7)
    return save_figure(fig, out, f"figures/oneshot_ladder_{method}.png")


def section(methods: list[str] | None, out: Path) -> dict[str, Any]:
    """Markdown, HTML, figures and table data of the ladders of ``methods`` (a profile's
    ``oneshot.ladder``)."""
    from tabulate import tabulate

    md: list[str] = []
    hp: list[str] = []
    figures: list[str] = []
    data: dict[str, Any] = {}
    for method in methods or []:
        recs, n = records(method)
        if not recs:
            continue
        table = rung_table(recs)
        data[method] = table
        hosts = sorted({r.get("host", "not recorded") for r in recs})
        caption = (
            f"Fidelity ladder of {method} on NB201 CIFAR-10: REDUCED CPU configurations, not "
            "the paper's (C channels, N cells per stage, images per pool = weight images = "
            "architecture images, epochs; batch 64 and every hyperparameter as the NB201 "
            "reference unless the rung says otherwise). "
            + PUBLISHED.get(method, "")
            + f"Records: {n['shipped']} shipped with nas-harness, "
            f"{n['here']} measured here (hosts: {', '.join(hosts)}); `run --all` does not "
            f"rerun them: `python -m harness ladder --method {method} --rung C,N,images,"
            "epochs` measures a rung here and this section picks it up.")
        title = f"Fidelity ladder: {method} at growing CPU configurations"
        md += [f"### {title}", "", caption, "",
               tabulate(table, headers="keys", tablefmt="github"), ""]
        hp += [f"<h3>{html.escape(title)}</h3><p>{html.escape(caption)}</p>",
               tabulate(table, headers="keys", tablefmt="html")]
        fig = figure(recs, method, out)
        if fig:
            figures.append(fig)
            md += [f"![fidelity ladder {method}]({fig})", ""]
            hp.append(f'<img src="{html.escape(fig)}" width="960" alt="ladder {method}">')
    return {"markdown": "\n".join(md), "html": "\n".join(hp), "tables": data,
            "figures": figures}
