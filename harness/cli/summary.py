"""What ``run`` and ``leaderboard`` print at the end: the search table with each row's metric
named, the zero-cost proxies' rank correlations, and the one-shot tables."""

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
    _print_proxies(res.get("proxies") or [])
    for key, t in res["display"].get("oneshot", {}).items():
        print(f"\none-shot on nb201 ({key}): test accuracy of the derived cell")
        print(tabulate([{k: r[k] for k in list(r)[:5]} for r in t["methods"]],
                       headers="keys"))
        if t.get("claim_verdict"):
            print(f"survey's FairNAS claim (τ 0.4 -> 0.7): {t['claim_verdict']}")


def _print_proxies(records: list[dict]) -> None:
    """Zero-cost proxies: Spearman rho of ours (and of the published scores) with the test
    metric, one column per benchmark/dataset."""
    from tabulate import tabulate

    cols = sorted({f"{p['benchmark']}/{p['dataset']}" for p in records if p.get("ours")})
    if not cols:
        return
    table: dict[str, dict[str, str]] = {}
    for p in records:
        col = f"{p['benchmark']}/{p['dataset']}"
        if col not in cols:
            continue
        ours = (p.get("ours") or {}).get("spearman")
        pub = (p.get("published") or {}).get("spearman")
        cell = "—" if ours is None else f"{ours:.2f}"
        if pub is not None:
            cell += f" ({pub:.2f})"
        table.setdefault(p["proxy"], {"proxy": p["proxy"]})[col] = cell
    print("\nzero-cost proxies: Spearman ρ with each dataset's test metric, ours on our sample "
          "(published scores' ρ in brackets)")
    print(tabulate([{"proxy": r["proxy"], **{c: r.get(c, "—") for c in cols}}
                    for _, r in sorted(table.items())], headers="keys"))


def log_run(store, profile: str, started: str, rows_before: int, summary) -> None:
    """Append this invocation's stages to the store's run log (:mod:`harness.core.runlog`):
    the leaderboard's timings page reports the store's first run from it."""
    import os
    import socket

    from harness.core.cellbase import _now, cpu_kind
    from harness.core.runlog import append_run
    from harness.run.executors import usable_cores

    append_run(store.path, {
        "profile": profile, "started": started, "finished": _now(),
        "host": socket.gethostname(), "cores": usable_cores(), "cpu": cpu_kind(),
        "pid": os.getpid(),
        "rows_before": rows_before, "ran": summary.ran, "skipped": summary.skipped,
        "failed": len(summary.failed), "left": summary.left,
        "stages": {k: round(v, 3) for k, v in summary.stages.items()}})

