"""What ``run`` and ``leaderboard`` print at the end: the search table with each row's metric
named, and the one-shot tables."""

from __future__ import annotations

import argparse


def print_ran(store, reg, methods: set[str], args: argparse.Namespace) -> None:
    """The search table of the cells this run covers (its rows and the stored ones it
    skipped), each row naming its metric."""
    from harness.report.leaderboard import aggregate_search, current_rows
    from harness.report.results import search_records

    rows = [r for r in current_rows(store.rows(), reg) if r["method"] in methods
            and (not args.benchmark or r["benchmark"] in args.benchmark)
            and (not args.dataset or r["dataset"] in args.dataset)]
    print_summary({"search": search_records(aggregate_search(rows)), "display": {}})


def print_summary(res: dict) -> None:
    from tabulate import tabulate

    rows = [[a["benchmark"], a["method"], a["budget"], a["n"],
             a["metric"] + (" (%)" if a["units"] == "percent" else ""),
             f"{a['mean']:.2f} ± {a['std']:.2f}"] for a in res["search"]]
    if rows:
        print(tabulate(rows, headers=["benchmark", "method", "budget", "seeds",
                                      "incumbent's metric", "mean ± std"]))
    for key, t in res["display"].get("oneshot", {}).items():
        print(f"\none-shot on nb201 ({key}): test accuracy of the derived cell")
        print(tabulate([{k: r[k] for k in list(r)[:5]} for r in t["methods"]],
                       headers="keys"))
        if t.get("claim_verdict"):
            print(f"survey's FairNAS claim (τ 0.4 -> 0.7): {t['claim_verdict']}")
