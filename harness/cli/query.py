"""``python -m harness query``: what a benchmark's table says about one architecture.

The harness's answer to the NB201 API's ``get_more_info`` / ``get_cost_info``: every metric
(with its training schedule, units and source file) and every cost (params, FLOPs,
HW-NAS-Bench latency and energy, training seconds) of one arch, on one or every dataset.
"""

from __future__ import annotations

import argparse
import json


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.6g}"


def cmd_query(args: argparse.Namespace) -> int:
    """Print one architecture's metrics and costs (a table, or one JSON object)."""
    from adapters.query import query

    out = query(args.benchmark, args.arch, dataset=args.dataset, metric=args.metric,
                epochs=args.epochs)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{out['benchmark']} arch {out['index']}: {out['arch']}  (encoding "
          f"{','.join(map(str, out['encoding']))}, isomorphism class {out['iso_class']})")
    for ds, d in out["datasets"].items():
        print(f"  {ds}{' — ' + d['note'] if d['note'] else ''}")
        for m, r in d["metrics"].items():
            sched = f"{r['epochs']} epochs" if r["epochs"] else "best over epochs"
            unit = " %" if r["units"] == "percent" else ""
            print(f"    {m:<34} {_fmt(r['value']):>12}{unit}  ({sched})")
        if not args.metric:
            for c, v in d["costs"].items():
                print(f"    {c:<34} {_fmt(v):>12}")
    return 0


def add_parser(sub) -> None:
    """Register ``query`` on the top-level sub-parsers."""
    x = sub.add_parser(
        "query", help="one architecture's metrics and costs from a benchmark's table",
        description="Look one architecture up in a converted benchmark: every metric "
                    "(training schedule, units, source) and every cost (params, FLOPs, "
                    "latency and energy per device, training seconds), like the NB201 API's "
                    "get_more_info and get_cost_info. Converts the benchmark on first use.",
        epilog="example: python -m harness query nb201 6111 --dataset cifar10 --epochs 200")
    x.add_argument("benchmark", help="benchmark name, e.g. nb201, tnb101-micro")
    x.add_argument("arch", help="official arch string (e.g. '|nor_conv_3x3~0|+|...|'), an "
                                "index into the table, or an encoding ('4,2,1,2,1,1')")
    x.add_argument("--dataset", help="one dataset or task (default: every one)")
    x.add_argument("--metric", help="one metric, e.g. test_acc (default: every one)")
    x.add_argument("--epochs", type=int, help="only metrics of this training schedule "
                                              "(NB201: 12 or 200)")
    x.add_argument("--json", action="store_true", help="print one JSON object")
    x.set_defaults(func=cmd_query)
