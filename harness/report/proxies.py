"""Leaderboard section for zero-cost proxies: the survey's Table 3 regenerated (ours and
from the published NAS-Bench-Suite-Zero scores, side by side, with the survey's and the
original paper's values and a verdict) and Figure 3c (rank-normalised score vs accuracy)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from harness.report.base import (  # noqa: F401 - latest is re-exported
    DATASETS,
    archs_evaluated,
    ci_text,
    latest,
    parse_pm,
    save_figure,
)

BENCHMARKS = ("nb201", "nb101", "tnb101-micro", "tnb101-macro")
TOL = 0.05


def _order(keys) -> list[tuple[str, str]]:
    def rank(bd):
        b, d = bd
        return (BENCHMARKS.index(b) if b in BENCHMARKS else 99,
                DATASETS.index(d) if d in DATASETS else 9, d)
    return sorted({(b, d) for b, d, _ in keys}, key=rank)


def _fin(v) -> bool:
    return v is not None and bool(np.isfinite(v))


def _num(v) -> str:
    return f"{v:.3f}" if _fin(v) else "—"


def _close(value: float, ref: float, ci: list[float] | None) -> bool:
    if value is None or not np.isfinite(value):
        return False
    inside = ci is not None and np.isfinite(ci[0]) and ci[0] <= ref <= ci[1]
    return abs(value - ref) <= TOL or inside


def comparable(row: dict) -> tuple[bool, str]:
    """Whether our number can be compared with a paper's (same images and task)."""
    note = row["result"].get("images", "")
    if row["kind"] == "proxy-published":
        return True, "published scores"
    if "STAND-IN" in note or "100-way head" in note:
        return False, "not the benchmark's own images"
    return True, ""


#: archs ours and the published scores must share before the verdicts use that set
SHARED_MIN = 100


def verdict_set(row: dict, ours: dict | None) -> tuple[dict, str]:
    """The correlations a verdict uses and the set's name: the archs ours and the published
    scores share when there are >= SHARED_MIN of them (like for like), else the row's own
    set (our sample, or every published arch). ``ours``: our row of the same proxy, whose
    ``shared`` entry holds both sides."""
    shared = (ours or {}).get("result", {}).get("shared")
    if shared and shared["n"] >= SHARED_MIN:
        side = "published" if row["kind"] == "proxy-published" else "ours"
        return shared[side], f"shared {shared['n']}"
    own = "all published" if row["kind"] == "proxy-published" else "our sample"
    return row["result"]["test"], own


def verdict_original(row: dict, ref: float | None, ours: dict | None = None) -> str:
    if ref is None:
        return "no verified original"
    ok, why = comparable(row)
    if not ok:
        return f"not comparable ({why})"
    t, where = verdict_set(row, ours)
    word = "reproduced" if _close(t.get("spearman"), ref, t.get("spearman_ci")) else \
        "contradicted"
    return f"{word} ({where})"


def verdict_survey(row: dict, survey: float | None, ours: dict | None = None) -> str:
    if survey is None:
        return ""
    t = verdict_set(row, ours)[0]
    if _close(t.get("kendall"), survey, t.get("kendall_ci")):
        return "survey τ holds"
    if _close(t.get("spearman"), survey, t.get("spearman_ci")):
        return "survey value matches ρ, not τ (mislabel)"
    return "survey value contradicted"


def build_section(rows: list[dict], specs: dict, refs: dict, out: Path) -> dict[str, Any]:
    """Markdown, HTML and figures for the proxy rows; returns the table data."""
    from tabulate import tabulate


    pspec = {s["method"]: s for s in specs.get("proxies", [])
             if str(refs.get(s["ref_id"], {}).get("status", "")).startswith("VERIFIED")}
    ours, pub = latest(rows, "proxy"), latest(rows, "proxy-published")
    md: list[str] = []
    hp: list[str] = []
    data: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    figures: list[str] = []
    for bench, ds in _order((*ours, *pub)):
        methods = sorted({m for b, d, m in (*ours, *pub) if (b, d) == (bench, ds)})
        table = []
        for m in methods:
            o, p = ours.get((bench, ds, m)), pub.get((bench, ds, m))
            sp = pspec.get(m, {}) if bench == "nb201" else {}
            orig = parse_pm(sp["original_spearman"][ds])[0] if sp.get(
                "original_spearman", {}).get(ds) else None
            survey = float(sp["survey"]) if sp.get("survey") else None
            ro = o["result"] if o else None
            agree = ""
            if ro and ro.get("agreement"):
                a = ro["agreement"]
                agree = "exact" if a.get("exact") else f"{a['spearman']:.3f} (n={a['n']})"
            sh = ro.get("shared") if ro else None
            records.append(_record(bench, ds, m, ro, p, sh, orig, survey))
            table.append({
                "proxy": m,
                "(a) ours ρ test [95% CI]": ci_text(ro["test"], "spearman") if ro else "—",
                "(a) ours τ test": f"{ro['test']['kendall']:.3f}" if ro and _fin(
                    ro["test"].get("kendall")) else "—",
                "(a) ours ρ valid": f"{ro['valid']['spearman']:.3f}" if ro and _fin(
                    ro["valid"].get("spearman")) else "—",
                "n / worst / NaN (of sample)": (
                    f"{ro['test']['n']} / {ro['test'].get('worst', 0)} / {ro['test']['nan']} "
                    f"(of {ro.get('archs_sampled', ro['test']['n'])})") if ro else "—",
                "ours vs published scores": agree or "—",
                "(b) shared archs: ours ρ / published ρ": (
                    f"{_num(sh['ours'].get('spearman'))} / "
                    f"{_num(sh['published'].get('spearman'))} (n={sh['n']})") if sh else "—",
                "(c) published ρ / τ (all its archs)": (
                    f"{_num(p['result']['test'].get('spearman'))} / "
                    f"{_num(p['result']['test'].get('kendall'))} "
                    f"(n={p['result']['test']['n']})") if p else "—",
                "original ρ": f"{orig:.3f}" if orig is not None else "—",
                "survey (labelled τ)": f"{survey:.2f}" if survey is not None else "—",
                "verdict (ours vs original)": verdict_original(o, orig, o) if o else "—",
                "verdict (published vs original)": verdict_original(p, orig, o) if p else "—",
                "survey check": verdict_survey(p or o, survey, o) if (p or o) else "",
            })
        if bench != "nb201":  # no survey or original values for these benchmarks
            for t in table:
                for k in ("original ρ", "survey (labelled τ)", "verdict (ours vs original)",
                          "verdict (published vs original)", "survey check"):
                    t.pop(k)
        mine = [r for (b, d, _), r in ours.items() if (b, d) == (bench, ds)]
        images = sorted({r["result"].get("images", "") for r in mine
                         if r["result"].get("images")})
        partial = [r for r in mine if r["result"].get("complete") is False]
        sweep = ""
        if partial:
            done = [archs_evaluated(r) for r in partial]
            lo, hi = min(done), max(done)
            sweep = (f" The sweep is not finished: {lo if lo == hi else f'{lo} to {hi}'} of "
                     f"the {partial[0]['result']['archs_sampled']} sampled archs are scored "
                     "so far (each run of the profile continues it).")
        batch = sorted({r["config"].get("batch_size") for r in mine if r.get("config")} -
                       {None})
        ours_text = (f"Ours: networks at initialisation, batch {', '.join(map(str, batch))}, "
                     f"one seed, a sample stratified over accuracy; inputs: "
                     f"{'; '.join(images)}. Fitted ensembles are evaluated on the half of "
                     f"the archs they were not fitted on.{sweep}" if mine else
                     "Ours: not run on this dataset by this profile.")
        metric = "test accuracy" if bench in ("nb201", "nb101") else \
            "test metric (best over epochs)"
        pub_src = ("NAS-Bench-Suite-Zero's scores" if bench == "nb201" else
                   "NASLib's published scores (NAS-Bench-Suite-Zero)")
        title = (f"Zero-cost proxies on NB201 {ds} (survey Table 3)" if bench == "nb201"
                 else f"Zero-cost proxies on {bench} {ds}")
        caption = (f"{title}: rank correlation of each proxy with the table's {metric} "
                   f"(95% percentile-bootstrap intervals) on three arch sets: (a) our sample "
                   f"(cells without an input-to-output path are scored worst by the proxies "
                   f"undefined on them and ranked last: the 'worst' count; NaN counts only "
                   f"numerical failures); (b) the archs of our sample that also have "
                   f"published scores, ours and published side by side on identical archs; "
                   f"(c) the published scores on all their archs. The verdicts use (b) where "
                   f"it has >= {SHARED_MIN} archs and say which set they used. {ours_text} "
                   f"Published: {pub_src}.")
        if bench == "nb201":
            caption += (" 'original ρ' is the original paper's Spearman on all 15,625 archs "
                        "(reference file, VERIFIED rows only); the survey prints its values "
                        "as Kendall τ.")
        data[ds if bench == "nb201" else f"{bench}/{ds}"] = table
        md += [f"### {title}", "", caption, "",
               tabulate(table, headers="keys", tablefmt="github"), ""]
        hp += [f"<h3>{html.escape(title)}</h3><p>{html.escape(caption)}</p>",
               tabulate(table, headers="keys", tablefmt="html")]
        if bench == "nb201":
            fig = _figure_3c(ds, {(d, m): r for (b, d, m), r in ours.items() if b == bench},
                             {(d, m): r for (b, d, m), r in pub.items() if b == bench}, out)
            if fig:
                figures.append(fig)
                md += [f"![Figure 3c {ds}]({fig})", ""]
                hp.append(f'<img src="{html.escape(fig)}" width="720" alt="figure 3c">')
    for bench in [b for b in BENCHMARKS if b.startswith("tnb101")]:
        fig = _task_heatmap(bench, ours, pub, out)
        if fig:
            figures.append(fig)
            md += [f"### Proxy rankings across {bench} tasks", "",
                   "Spearman ρ of each proxy with each task's test metric; rankings change "
                   "across tasks (published scores; ours where data-free proxies ran).", "",
                   f"![{bench} tasks]({fig})", ""]
            hp.append(f"<h3>Proxy rankings across {html.escape(bench)} tasks</h3>"
                      f'<img src="{html.escape(fig)}" width="720" alt="tasks heatmap">')
    unver = [f"{s['method']} [ref {s['ref_id']}: UNVERIFIED]" for s in
             specs.get("unverified_proxies", [])]
    if unver and md:
        md.append("Survey values without a verified original (not used as checks): "
                  + ", ".join(unver) + ".\n")
    return {"markdown": "\n".join(md), "html": "\n".join(hp), "tables": data,
            "records": records, "figures": figures}


def _stat(c: dict | None, key: str) -> float | None:
    v = (c or {}).get(key)
    return float(v) if v is not None and np.isfinite(v) else None


def _record(bench: str, ds: str, proxy: str, ro: dict | None, p: dict | None,
            sh: dict | None, orig: float | None, survey: float | None) -> dict[str, Any]:
    """One proxy's numbers on one dataset for results.json (numbers, never text)."""
    test = (ro or {}).get("test") or {}
    ci = test.get("spearman_ci")
    ptest = (p or {}).get("result", {}).get("test") if p else None
    return {
        "benchmark": bench, "dataset": ds, "proxy": proxy,
        "metric": "test_acc" if bench in ("nb201", "nb101") else "test metric (best over epochs)",
        "ours": None if ro is None else {
            "spearman": _stat(test, "spearman"), "kendall": _stat(test, "kendall"),
            "spearman_ci95": [float(x) if np.isfinite(x) else None for x in ci] if ci else None,
            "spearman_valid": _stat(ro.get("valid"), "spearman"),
            "n": int(test.get("n", 0)), "worst": int(test.get("worst", 0) or 0),
            "nan": int(test.get("nan", 0) or 0),
            "archs_sampled": int(ro.get("archs_sampled", test.get("n", 0)) or 0),
            "complete": ro.get("complete") is not False},
        "shared": None if not sh else {
            "n": int(sh["n"]), "ours_spearman": _stat(sh["ours"], "spearman"),
            "published_spearman": _stat(sh["published"], "spearman")},
        "published": None if not ptest else {
            "spearman": _stat(ptest, "spearman"), "kendall": _stat(ptest, "kendall"),
            "n": int(ptest.get("n", 0))},
        "original_spearman": orig, "survey_value": survey}


def _figure_3c(ds: str, ours: dict, pub: dict, out: Path) -> str | None:
    """Panel c of the survey's proxy-gap figure: the best ensemble and the best single
    proxy, rank-normalised score vs rank-normalised test accuracy, with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.core.correlation import rank_normalise

    src = {k: v for k, v in pub.items() if k[0] == ds} or {
        k: v for k, v in ours.items() if k[0] == ds}
    if not src:
        return None

    def rho(r):
        v = r["result"]["test"].get("spearman")
        return v if v is not None and np.isfinite(v) else -9

    ens = [r for (d, m), r in src.items() if r["result"].get("members")]
    single = [r for (d, m), r in src.items() if not r["result"].get("members")
              and m not in ("params", "flops")]
    picks = [max(x, key=rho) for x in (ens, single) if x]
    fig, axes = plt.subplots(1, len(picks), figsize=(5.2 * len(picks), 4.6), dpi=100,
                             squeeze=False)
    for ax, r in zip(axes[0], picks, strict=True):
        s = np.asarray(r["result"]["ranks"]["score"], dtype=float)
        a = rank_normalise(np.asarray(r["result"]["ranks"]["acc"], dtype=float))
        ax.scatter(a, s, s=3, alpha=0.35)
        ax.plot([0, 1], [0, 1], "k--", lw=1, label="ideal")
        kind = "published scores" if r["kind"] == "proxy-published" else "ours"
        ax.set_title(f"{r['method']} ({kind}), ρ={rho(r):.3f}, n={len(s)}", fontsize=10)
        ax.set_xlabel("rank-normalised test accuracy")
        ax.set_ylabel("rank-normalised proxy score")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"Proxy gap on NB201 {ds} (Figure 3c)")
    return save_figure(fig, out, f"figures/proxy_gap_{ds}.png")


def _task_heatmap(bench: str, ours: dict, pub: dict, out: Path) -> str | None:
    """Proxies x tasks heatmap of Spearman rho on one TNB101 space."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = {}
    for src, tag in ((pub, ""), (ours, " (ours)")):
        for (b, d, m), r in src.items():
            v = r["result"].get("test", {}).get("spearman")
            if b == bench and v is not None and np.isfinite(v):
                cells[(m + tag, d)] = v
    if not cells:
        return None
    rows_ = sorted({m for m, _ in cells})
    cols = sorted({d for _, d in cells})
    grid = np.full((len(rows_), len(cols)), np.nan)
    for (m, d), v in cells.items():
        grid[rows_.index(m), cols.index(d)] = v
    fig, ax = plt.subplots(figsize=(1.2 * len(cols) + 3, 0.4 * len(rows_) + 1.8), dpi=100)
    im = ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows_)), rows_, fontsize=8)
    for i in range(len(rows_)):
        for j in range(len(cols)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="Spearman ρ vs test metric")
    ax.set_title(f"Zero-cost proxies across {bench} tasks")
    return save_figure(fig, out, f"figures/proxy_tasks_{bench}.png")


