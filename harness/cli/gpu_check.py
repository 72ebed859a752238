"""``python -m harness gpu-check``: one-shot steps of every method and a DARTS-V1 run on one
device within a time budget, written as a JSON report (see :mod:`harness.run.gpu_check`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.core.errors import ConfigError


def cmd_gpu_check(args: argparse.Namespace) -> int:
    from harness.cli.checks import output_folder
    from harness.cli.commands import check_device
    from harness.core.registry import default_registry
    from harness.run.gpu_check import default_report, gpu_check, write_report
    from harness.run.profile import load_profile

    if not 0 < args.minutes <= 600 or args.steps < 1:
        raise ConfigError("gpu-check: --minutes must be in (0, 600] and --steps 1 or more")
    device = check_device(args.device)
    out = Path(args.out) if args.out else default_report()
    output_folder("--out", out.parent)
    methods = [m for m in (args.methods or "").split(",") if m] or None

    def say(msg: str) -> None:
        print(f"[harness] gpu-check: {msg}", file=sys.stderr, flush=True)

    report = gpu_check(load_profile(args.profile), default_registry(), device, args.minutes,
                       args.steps, methods, out.parent, say)
    write_report(report, out)
    steps = report["steps"]
    print(f"{report['device_name']} ({device}), profile '{report['profile']}': "
          f"{report['configuration']}")
    for name, m in steps.items():
        print(f"  {name:12s} {m['seconds_per_step'] * 1000:9.1f} ms/step"
              + (f"  peak {m['peak_memory_mb']:.0f} MiB" if m["peak_memory_mb"] else ""))
    run = report.get("darts_v1_run")
    if run:
        last = run["per_epoch"][-1] if run["per_epoch"] else {}
        print(f"  DARTS-V1: {run['epochs_done']}/{run['epochs']} epochs in the budget, "
              f"{run['seconds_per_epoch'] or 0:.1f} s/epoch (all epochs: "
              f"{run['hours_for_all_epochs']} h); last epoch: {last.get('skip_edges')} skip "
              f"edges, {last.get('test_value')} % test")
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        print()
    print(f"report: {out}")
    return 0


def add_parser(sub) -> None:
    x = sub.add_parser(
        "gpu-check", help="time one-shot steps and a DARTS-V1 run on a GPU, write a report",
        description="On one device and within --minutes: time a few supernet steps of every "
                    "one-shot method at the profile's configuration (the paper's by default), "
                    "DARTS-V1's batched seeds and bfloat16 autocast, then run DARTS-V1 for as "
                    "many epochs as fit. The JSON report is what 'estimate --device cuda' "
                    "reads.")
    x.add_argument("--device", default="cuda", help="cuda[:N] (default: cuda) or cpu")
    x.add_argument("--profile", default="paper", help="whose one-shot configuration "
                   "(default: paper)")
    x.add_argument("--minutes", type=float, default=8.0,
                   help="wall-clock budget of the whole check (default: 8)")
    x.add_argument("--steps", type=int, default=5, help="timed steps per method after one "
                   "warm-up (default: 5)")
    x.add_argument("--methods", metavar="A,B", help="only these one-shot methods "
                   "(default: all)")
    x.add_argument("--out", metavar="FILE", help="report file (default: "
                   "NAS_HARNESS_HOME/gpu-check.json)")
    x.add_argument("--json", action="store_true", help="also print the report")
    x.set_defaults(func=cmd_gpu_check)
