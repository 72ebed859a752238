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
import warnings
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


def _add(part: dict, md: list[str], hp: list[str], figures: list[str]) -> None:
    """Append a report section (its Markdown, HTML and figures), if it has any content."""
    if part["markdown"]:
        md.append(part["markdown"])
        hp.append(part["html"])
        figures += part.get("figures", [])


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
    from tabulate import tabulate

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
    from harness.report import targets

    free = training_free.section(rows, specs, refs, out)
    _add(free, sections_md, sections_html, figures)
    warm = warm_start.section(rows, out)
    _add(warm, sections_md, sections_html, figures)
    target = targets.section(search_rows)
    _add(target, sections_md, sections_html, figures)
    hardware = pareto.section(out, rows)
    _add(hardware, sections_md, sections_html, figures)
    from harness.report.proxies import build_section

    proxy = build_section(rows, specs, refs, out)
    _add(proxy, sections_md, sections_html, figures)
    from harness.report.oneshot import build_section as oneshot_section

    oneshot = oneshot_section(rows, specs, refs, out, plan)
    _add(oneshot, sections_md, sections_html, figures)
    from harness.report import ladder as ladder_report

    ladder_part = ladder_report.section(ladder, out)
    _add(ladder_part, sections_md, sections_html, figures)
    from harness.report.survey import build_section as survey_section

    survey = survey_section(rows, specs, refs, out)
    sections_md.append(survey["markdown"])
    sections_html.append(survey["html"])
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
    (out / "README.md").write_text(header + "\n" + "\n".join(sections_md))
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
        rows, agg, proxy["records"],
        [{"path": f, "caption": captions.get(f, Path(f).stem.replace("_", " "))}
         for f in figures],
        {"search": tables, "proxies": proxy["tables"], "oneshot": oneshot["tables"],
         "survey": survey["tables"],
         **({"ladder": ladder_part["tables"]} if ladder_part["tables"] else {})},
        profile, target["records"], hardware["records"],
        free["records"], hardware["found"], warm["records"])
    (out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    from harness.core.runlog import first_run_seconds, read_runs

    timings.build(rows, specs, refs, out, generated, bench_best,
                  first_run_seconds(read_runs(store.path)))
    results["_store"] = {"rows_used": len(rows), "rows_outside_plan": outside}
    return results
