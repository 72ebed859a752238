"""Training-free search (NASWOT): per score table and N (archs scored), the test accuracy of
the chosen arch over seeds, beside the published numbers, and whether ours is within one
published standard deviation; a figure of the distributions.

These rows are search rows whose budget names a score table (``scored=N,scores=T``); the
search tables leave them out (a one-query budget is not comparable with 150 queries).
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.report.base import mean_ci, parse_pm, save_figure


def is_training_free(row: dict) -> bool:
    """Whether a stored row is a training-free search (its budget names a score table and
    it is not a warm start, which scores a pool before a full query budget)."""
    return (row["kind"] == "search" and ",scores=" in row["budget"]
            and not row["result"].get("warm_start_of"))


def _budget_parts(budget: str) -> tuple[int, str]:
    parts = dict(p.split("=", 1) for p in budget.split(","))
    return int(parts["scored"]), parts["scores"]


def _published(specs: dict, refs: dict, n: int, dataset: str) -> tuple[str, float, float,
                                                                        int] | None:
    """(label, mean, std, ref id) of the VERIFIED published result for N archs scored."""
    for s in specs.get("training_free", []):
        ref = refs.get(s["ref_id"], {})
        if s["scored"] != n or not str(ref.get("status", "")).startswith("VERIFIED"):
            continue
        v = s["test"].get(dataset)
        if v:
            mean, std = parse_pm(v)
            return s["label"], mean, std or 0.0, s["ref_id"]
    return None


def section(rows: list[dict], specs: dict, refs: dict, out: Path) -> dict[str, Any]:
    """Markdown, HTML, figures and records of the training-free rows (empty if none)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if is_training_free(r):
            n, table = _budget_parts(r["budget"])
            groups[(r["benchmark"], r["dataset"], r["method"], table, n)].append(r)
    if not groups:
        return {"markdown": "", "html": "", "figures": [], "records": []}
    records, table_rows = [], []
    for (b, d, m, table, n), rs in sorted(groups.items()):
        test = [r["test_value"] for r in rs]
        mean, std, _ = mean_ci(test)
        valid = mean_ci([r["search_value"] for r in rs])[0]
        pub = _published(specs, refs, n, d)
        rec = {"benchmark": b, "dataset": d, "method": m, "scores": table, "scored": n,
               "seeds": len(rs), "test_mean": round(mean, 4), "test_std": round(std, 4),
               "search_mean": round(valid, 4), "search_on": rs[0]["search_on"],
               "report_on": rs[0]["report_on"]}
        verdict = "—"
        if pub:
            label, pm, ps, ref = pub
            within = abs(mean - pm) <= ps
            rec["published"] = {"ref_id": ref, "label": label, "mean": pm, "std": ps,
                                "within_one_std": within}
            verdict = (f"{'yes' if within else 'NO'} ({mean - pm:+.2f} vs ±{ps:.2f}) "
                       f"[ref {ref}]")
        records.append(rec)
        table_rows.append({"benchmark/dataset": f"{b}/{d}", "method": m, "score table": table,
                           "N scored": n, "ours: test (seeds)": f"{mean:.2f} ± {std:.2f} "
                           f"({len(rs)})", "ours: search metric": f"{valid:.2f}",
                           "published test": f"{pub[1]:.2f} ± {pub[2]:.2f}" if pub else "—",
                           "within one published std": verdict})
    from tabulate import tabulate

    caption = ("Training-free search: N archs drawn uniformly at random are scored with the "
               "named score table (no training), the best-scored one is 'trained' (its table "
               "accuracy read); mean ± std over seeds of its reported (test) accuracy. "
               "Published numbers only where the reference file marks them VERIFIED. The "
               "naswot-v1 table is the NASWOT authors' published arXiv-v1 score; the "
               "reference numbers are the ICML version's (the score our 'nwot' proxy "
               "computes), so the comparison checks the search procedure on the authors' "
               "scores, not our own scoring.")
    fig = _figure(groups, specs, refs, out)
    md = ["### Training-free search (NASWOT)", "", caption, "",
          tabulate(table_rows, headers="keys", tablefmt="github"), "",
          f"![training-free search]({fig})", ""]
    hp = [f"<h3>Training-free search (NASWOT)</h3><p>{html.escape(caption)}</p>",
          tabulate(table_rows, headers="keys", tablefmt="html"),
          f'<img src="{html.escape(fig)}" alt="training-free search" width="560">']
    return {"markdown": "\n".join(md), "html": "\n".join(hp), "figures": [fig],
            "records": records}


def _figure(groups: dict, specs: dict, refs: dict, out: Path) -> str:
    """Box plots of the chosen archs' test accuracy per (dataset, table, N), with the
    published mean ± std beside each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted(groups)
    fig, ax = plt.subplots(figsize=(max(4.4, 1.6 + 1.4 * len(keys)), 3.6))
    data = [[r["test_value"] for r in groups[k]] for k in keys]
    ax.boxplot(data, showmeans=True)
    for i, (_b, d, _m, _t, n) in enumerate(keys, start=1):
        pub = _published(specs, refs, n, d)
        if pub:
            ax.errorbar(i + 0.3, pub[1], yerr=pub[2], fmt="s", color="C3", capsize=4,
                        label="published mean ± std" if i == 1 else None)
    ax.set_xticks(range(1, len(keys) + 1),
                  [f"{d}\n{t}, N={n}" for (_b, d, _m, t, n) in keys], fontsize=8)
    ax.set_ylabel("test accuracy of the chosen arch (%)")
    ax.set_title("Ours over seeds (box; triangle: mean)", fontsize=9)
    if any(_published(specs, refs, k[4], k[1]) for k in keys):
        ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    return "figures/" + save_figure(fig, out / "figures", "training_free_search.png")

