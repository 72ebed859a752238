"""Leaderboard section for zero-cost proxies: the survey's Table 3 regenerated (ours and
from the published NAS-Bench-Suite-Zero scores, side by side, with the survey's and the
original paper's values and a verdict) and Figure 3c (rank-normalised score vs accuracy)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
TOL = 0.05


def _ci(c: dict, key: str) -> str:
    v = c.get(key)
    lo, hi = c.get(key + "_ci", [np.nan, np.nan])
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:.3f} [{lo:.2f}, {hi:.2f}]"


def _close(value: float, ref: float, ci: list[float] | None) -> bool:
    if value is None or not np.isfinite(value):
        return False
    inside = ci is not None and np.isfinite(ci[0]) and ci[0] <= ref <= ci[1]
    return abs(value - ref) <= TOL or inside


def comparable(row: dict) -> tuple[bool, str]:
    """Whether our number can be compared with a paper's (same images and task)."""
    note = row["result"].get("images", "")
    if row["kind"] == "proxy-published":
        return True, "published scores on 9,445 nets (archs with unreachable ops excluded)"
    if "STAND-IN" in note or "100-way head" in note:
        return False, "not the benchmark's own images"
    return True, ""


def verdict_original(row: dict, ref: float | None) -> str:
    if ref is None:
        return "no verified original"
    ok, why = comparable(row)
    if not ok:
        return f"not comparable ({why})"
    t = row["result"]["test"]
    return "reproduced" if _close(t.get("spearman"), ref, t.get("spearman_ci")) else \
        "contradicted"


def verdict_survey(row: dict, survey: float | None) -> str:
    if survey is None:
        return ""
    t = row["result"]["test"]
    if _close(t.get("kendall"), survey, t.get("kendall_ci")):
        return "survey τ holds"
    if _close(t.get("spearman"), survey, t.get("spearman_ci")):
        return "survey value matches ρ, not τ (mislabel)"
    return "survey value contradicted"


def build_section(rows: list[dict], specs: dict, refs: dict, out: Path) -> dict[str, Any]:
    """Markdown, HTML and figures for the proxy rows; returns the table data."""
    from tabulate import tabulate

    from harness.leaderboard import parse_pm

    pspec = {s["method"]: s for s in specs.get("proxies", [])
             if str(refs.get(s["ref_id"], {}).get("status", "")).startswith("VERIFIED")}
    ours = {(r["dataset"], r["method"]): r for r in rows if r["kind"] == "proxy"}
    pub = {(r["dataset"], r["method"]): r for r in rows if r["kind"] == "proxy-published"}
    methods = sorted({m for _, m in (*ours, *pub)})
    md: list[str] = []
    hp: list[str] = []
    data: dict[str, Any] = {}
    figures: list[str] = []
    for ds in [d for d in DATASETS if any(k[0] == d for k in (*ours, *pub))]:
        table = []
        for m in methods:
            o, p = ours.get((ds, m)), pub.get((ds, m))
            sp = pspec.get(m, {})
            orig = parse_pm(sp["original_spearman"][ds])[0] if sp.get(
                "original_spearman", {}).get(ds) else None
            survey = float(sp["survey"]) if sp.get("survey") else None
            ro = o["result"] if o else None
            agree = ""
            if ro and ro.get("agreement"):
                a = ro["agreement"]
                agree = "exact" if a.get("exact") else f"{a['spearman']:.3f} (n={a['n']})"
            table.append({
                "proxy": m,
                "ours ρ test [95% CI]": _ci(ro["test"], "spearman") if ro else "—",
                "ours τ test [95% CI]": _ci(ro["test"], "kendall") if ro else "—",
                "ours ρ valid": f"{ro['valid']['spearman']:.3f}" if ro and ro["valid"].get(
                    "spearman") is not None and np.isfinite(ro["valid"]["spearman"]) else "—",
                "n / NaN": f"{ro['test']['n']} / {ro['test']['nan']}" if ro else "—",
                "s/arch": f"{ro['median_seconds']:.3f}" if ro and ro.get("median_seconds")
                is not None else "—",
                "ours vs published scores": agree or "—",
                "published ρ / τ (NB-Suite-Zero)": (
                    f"{p['result']['test']['spearman']:.3f} / {p['result']['test']['kendall']:.3f}"
                    f" (n={p['result']['test']['n']})") if p else "—",
                "original ρ": f"{orig:.3f}" if orig is not None else "—",
                "survey (labelled τ)": f"{survey:.2f}" if survey is not None else "—",
                "verdict (ours vs original)": verdict_original(o, orig) if o else "—",
                "verdict (published vs original)": verdict_original(p, orig) if p else "—",
                "survey check": verdict_survey(p or o, survey) if (p or o) else "",
            })
        images = sorted({r["result"].get("images", "") for r in ours.values()
                         if r["dataset"] == ds and r["result"].get("images")})
        ours_text = (f"Ours: networks at initialisation, batch 64, one seed, a sample "
                     f"stratified over accuracy; images: {'; '.join(images)}." if images else
                     "Ours: not run on this dataset by this profile (no images of it here).")
        caption = (f"Table 3 regenerated on NB201 {ds}: rank correlation of each proxy with "
                   f"the table's test accuracy (95% percentile-bootstrap intervals). {ours_text}"
                   " Published: "
                   "NAS-Bench-Suite-Zero's scores. 'original ρ' is the original paper's "
                   "Spearman on all 15,625 archs (reference file, VERIFIED rows only); the "
                   "survey prints its values as Kendall τ.")
        data[ds] = table
        md += [f"### Zero-cost proxies on NB201 {ds} (survey Table 3)", "", caption, "",
               tabulate(table, headers="keys", tablefmt="github"), ""]
        hp += [f"<h3>Zero-cost proxies on NB201 {html.escape(ds)} (survey Table 3)</h3>"
               f"<p>{html.escape(caption)}</p>", tabulate(table, headers="keys",
                                                          tablefmt="html")]
        fig = _figure_3c(ds, ours, pub, out)
        if fig:
            figures.append(fig)
            md += [f"![Figure 3c {ds}]({fig})", ""]
            hp.append(f'<img src="{html.escape(fig)}" width="720" alt="figure 3c">')
    unver = [f"{s['method']} [ref {s['ref_id']}: UNVERIFIED]" for s in
             specs.get("unverified_proxies", [])]
    if unver and md:
        md.append("Survey values without a verified original (not used as checks): "
                  + ", ".join(unver) + ".\n")
    return {"markdown": "\n".join(md), "html": "\n".join(hp), "tables": data,
            "figures": figures}


def _figure_3c(ds: str, ours: dict, pub: dict, out: Path) -> str | None:
    """Panel c of the survey's proxy-gap figure: the best ensemble and the best single
    proxy, rank-normalised score vs rank-normalised test accuracy, with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.proxy import rank_normalise

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
    fig.tight_layout()
    name = f"figures/proxy_gap_{ds}.png"
    fig.savefig(out / name)
    plt.close(fig)
    return name
