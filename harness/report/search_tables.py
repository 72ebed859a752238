"""The search strategies' section of the leaderboard: per benchmark and budget, each
strategy's reported (test) metric of the incumbent over seeds beside the VERIFIED published
numbers, and a trajectory figure per dataset (mean and 95% CI over seeds)."""

from __future__ import annotations

import html
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.report.base import parse_pm


def budget_slug(budget: str) -> str:
    """A file-name form of a budget key: 'sim_seconds=2.691e+06' -> 'sim-seconds-2691000'."""
    out = []
    for part in budget.split(","):
        k, _, v = part.partition("=")
        try:
            f = float(v)
            v = str(int(f)) if f.is_integer() else f"{f:g}"
        except ValueError:
            pass
        out.append(f"{k.replace('_', '-')}-{v}" if v else k.replace("_", "-"))
    return "_".join(out)


def table_optimum(benchmark: str, report_on: str) -> float | None:
    """The best value of the reported metric in the benchmark's table (None when the table
    cannot be opened here: the leaderboard is then drawn without the line)."""
    from harness.report.targets import table_best

    got = table_best(benchmark, report_on)
    return got[0] if got else None


def _trajectory_figure(rows: list[dict], benchmark: str, dataset: str, path: Path,
                       optimum: float | None = None, ylabel: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_method: dict[str, list[list[float]]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "search" and r["benchmark"] == benchmark and r["dataset"] == dataset:
            by_method[r["method"]].append(r["result"]["trajectory"]["incumbent_test"])
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    timed = [r for r in rows if r["kind"] == "search" and r["benchmark"] == benchmark
             and r["dataset"] == dataset and r["result"]["trajectory"].get("sim_seconds")]
    grid = None
    if timed:  # time budgets: incumbent after x simulated seconds, on a common grid
        grid = np.linspace(0, max(r["result"]["budget"].get("sim_seconds", 0) for r in timed),
                           200)[1:]
        by_method = defaultdict(list)
        for r in timed:
            tr = r["result"]["trajectory"]
            pos = np.searchsorted(np.asarray(tr["sim_seconds"]), grid, side="right") - 1
            inc = np.asarray(tr["incumbent_test"])
            by_method[r["method"]].append(np.where(pos >= 0, inc[np.maximum(pos, 0)],
                                                   np.nan))
    for m, trajs in sorted(by_method.items()):
        n = min(len(t) for t in trajs)
        a = np.array([t[:n] for t in trajs], dtype=float)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # no incumbent yet at early x
            mean = np.nanmean(a, axis=0) if grid is not None else a.mean(axis=0)
            half = 1.96 * np.nanstd(a, axis=0, ddof=1) / np.sqrt(len(a)) if len(a) > 1 \
                else 0 * mean
        x = grid[:n] if grid is not None else np.arange(1, n + 1)
        ax.plot(x, mean, label=f"{m} (n={len(a)})")
        ax.fill_between(x, mean - half, mean + half, alpha=0.2)
    if optimum is not None:
        ax.axhline(optimum, color="k", ls="--", lw=0.8, label=f"table optimum {optimum:.4g}")
    ax.set_xlabel("simulated training seconds" if grid is not None
                  else "queries (new architectures evaluated)")
    ax.set_ylabel(ylabel or "reported metric of the incumbent")
    ax.set_title(f"{benchmark} / {dataset}: mean and 95% CI over seeds")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    # the axis fits the data: from the early incumbents (5th percentile) to the optimum
    early = [t[min(len(t) - 1, 9)] for ts in by_method.values() for t in ts]
    early = [v for v in early if np.isfinite(v)]
    last = [t[-1] for ts in by_method.values() for t in ts if np.isfinite(t[-1])]
    if early and last:
        lo = float(np.percentile(early, 5))
        hi = max(max(last), optimum if optimum is not None else -np.inf)
        pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1e-3)
        ax.set_ylim(lo - pad, hi + pad)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def metric_label(bench: str, dataset: str, sel: list[dict]) -> str:
    """'CIFAR-10 test accuracy (%)'-style name of the reported metric of ``sel``."""
    from harness.report.results import metric_units

    on = sorted({a["report_on"] for a in sel if a["dataset"] == dataset}) or [dataset]
    ds, _, metric = on[0].partition("/")
    units = metric_units(metric)
    nice = {"test_acc": "test accuracy", "test_ssim": "test SSIM",
            "test_l1_loss": "test L1 loss", "test_top1": "test top-1 accuracy",
            "test_neg_loss": "test negative loss", "test_mIoU": "test mIoU"}.get(
        metric, metric.replace("_", " "))
    names = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
    return f"{names.get(ds, ds)} {nice}" + (" (%)" if units == "percent" else "")


def _seeds(agg: dict, plan) -> str:
    """'n=100', or 'n=97 of 100' where fewer seeds are stored than the plan asks for (failed
    or not yet run)."""
    want = plan.seeds(agg) if plan is not None else None
    n = agg["n_seeds"]
    return f"n={n}" if not want or want == n else f"n={n} of {want}"


def _fmt(mean: float, std: float | None) -> str:
    return f"{mean:.2f} ± {std:.2f}" if std is not None else f"{mean:.2f}"



def section(inputs: Any) -> dict[str, Any]:
    """The section's Markdown, HTML, figures (with captions) and tables (results.json's
    ``search``); ``inputs`` is a :class:`harness.report.sections.ReportInputs`."""
    from tabulate import tabulate

    agg, specs, refs, plan = inputs.agg, inputs.specs, inputs.refs, inputs.plan
    out, search_rows = inputs.out, inputs.search_rows
    sections_md: list[str] = []
    sections_html: list[str] = []
    figures: list[str] = []
    captions: dict[str, str] = {}
    tables: dict[str, Any] = {}
    for bench in sorted({a["benchmark"] for a in agg}):
        datasets = [d for d in ("cifar10", "cifar100", "ImageNet16-120")
                    if any(a["dataset"] == d and a["benchmark"] == bench for a in agg)]
        datasets += sorted({a["dataset"] for a in agg if a["benchmark"] == bench} - set(datasets))
        all_datasets = datasets
        # one section per budget; per-task budgets (TNB101: k x the task's median training
        # time) share one section, with each task's budget in the caption
        per_ds = {d: sorted({a["budget"] for a in agg if a["benchmark"] == bench
                             and a["dataset"] == d}) for d in all_datasets}
        for k in range(max(len(v) for v in per_ds.values())):
            pairs = {d: v[k] for d, v in per_ds.items() if len(v) > k}
            sel = [a for a in agg if a["benchmark"] == bench
                   and pairs.get(a["dataset"]) == a["budget"]]
            datasets = [d for d in all_datasets if d in pairs]
            budget = (next(iter(pairs.values())) if len(set(pairs.values())) == 1
                      else "per task (" + "; ".join(f"{d}: {b}" for d, b in pairs.items())
                      + ")")
            table = []
            for m in sorted({a["method"] for a in sel}):
                row = {"method": m}
                for d in datasets:
                    a = next((x for x in sel if x["method"] == m and x["dataset"] == d), None)
                    row[d] = f"{_fmt(a['test_mean'], a['test_std'])} ({_seeds(a, plan)})" \
                        if a else "—"
                table.append(row)
            refrows = []
            for s in specs.get("search", []):
                ref = refs.get(s["ref_id"], {})
                if s.get("benchmark") != bench or not str(ref.get("status", "")).startswith(
                        "VERIFIED"):
                    continue
                row = {"method": f"{s['label']} [ref {s['ref_id']}, {ref['status']}]"}
                for d in datasets:
                    v = s["test"].get(d)
                    if v is None:
                        row[d] = "—"
                        continue
                    mean, std = parse_pm(v)
                    ours = next((x for x in sel if x["method"] == s.get("method")
                                 and x["dataset"] == d), None)
                    delta = f"; ours {ours['test_mean'] - mean:+.2f}" if ours else ""
                    row[d] = _fmt(mean, std) + delta
                refrows.append(row)
            for s in specs.get("unverified_search", []):
                refrows.append({"method": f"{'/'.join(s['method'])} [ref {s['ref_id']}: "
                                          "UNVERIFIED, not shown as a check]",
                                **{d: "—" for d in datasets}})
            key = f"{bench}:{budget}"
            tables[key] = {"ours": table, "references": refrows}
            searched = ", ".join(sorted({a["search_on"] for a in sel}))
            reported = ", ".join(sorted({a["report_on"] for a in sel}))
            caption = (f"Reported (test) metric of the incumbent after a budget of {budget}: "
                       "mean ± std "
                       f"over seeds. Search metric: {searched}; reported: {reported} "
                       "(the test accuracy of the arch with the best search metric, never the "
                       "best test accuracy seen).")
            notes = sorted({a["note"] for a in sel if a["note"]})
            if notes:
                caption += " Note: " + "; ".join(notes) + "."
            title = budget if len(set(pairs.values())) == 1 else "per task"
            md = [f"### {bench}: search strategies, budget {title}", "", caption, "",
                  tabulate(table + refrows, headers="keys", tablefmt="github"), ""]
            hp = [f"<h3>{html.escape(bench)}: search strategies, budget {html.escape(title)}"
                  f"</h3><p>{html.escape(caption)}</p>",
                  tabulate(table + refrows, headers="keys", tablefmt="html")]
            for d in datasets:
                bud = pairs[d]
                name = f"search_{bench}_{d}_{budget_slug(bud)}.png"
                opt = next((parse_pm(s["test"][d])[0] for s in specs.get("search", [])
                            if s.get("optimum") and s.get("benchmark") == bench
                            and d in s["test"]), None)
                on = next((a["report_on"] for a in sel if a["dataset"] == d), None)
                if opt is None and on:
                    opt = table_optimum(bench, on)
                label = metric_label(bench, d, sel)
                _trajectory_figure([r for r in search_rows if r["budget"] == bud], bench, d,
                                   out / "figures" / name, opt, label)
                figures.append(f"figures/{name}")
                captions[f"figures/{name}"] = (
                    f"{bench} {d}: {label} of the incumbent against the budget ({bud}), "
                    "mean and 95% CI over seeds")
                md.append(f"![{bench} {d} trajectories](figures/{name})")
                hp.append(f'<img src="figures/{html.escape(name)}" alt="{html.escape(d)}" '
                          'width="480">')
            md.append("")
            sections_md.append("\n".join(md))
            sections_html.append("\n".join(hp))
    return {"markdown": "\n".join(sections_md), "html": "\n".join(sections_html),
            "figures": figures, "captions": captions, "tables": tables}
