"""``python -m harness estimate``: what a profile will cost, measured on this device before
it runs (see :mod:`harness.run.estimate`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.core.errors import ConfigError


def cmd_estimate(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from harness.cli.commands import _warn, check_device
    from harness.core.registry import default_registry
    from harness.oneshot.cells import OneShotCell, plan_oneshot_cells
    from harness.proxies.cells import plan_proxy_cells
    from harness.run.engine import drop_unavailable
    from harness.run.estimate import estimate, from_report, summary_table
    from harness.run.gpu_check import default_report, load_report
    from harness.run.profile import load_profile
    from harness.search.cells import plan_cells

    if args.steps < 1 or args.archs < 1:
        raise ConfigError("--steps and --archs must be positive numbers; give 1 or more")
    from_gpu_report = args.device.startswith("cuda") and not _cuda_here()
    device = args.device if from_gpu_report else check_device(args.device)
    if not device.startswith("cuda"):
        import torch

        torch.set_num_threads(1)  # cells run with one thread on the CPU
    profile = load_profile(args.profile)
    reg = default_registry()
    methods, errors = reg.load_all()
    for e in errors:
        _warn(e + " (skipped)")
    if args.kind:
        methods = {n: c for n, c in methods.items() if c.kind == args.kind}
    drop_unavailable(profile, _warn)
    cells = plan_cells(profile, methods, benchmarks=args.benchmark)
    cells += plan_proxy_cells(profile, methods, benchmarks=args.benchmark, device=device,
                              warn=_warn)
    cells += plan_oneshot_cells(profile, methods, benchmarks=args.benchmark, device=device,
                                warn=_warn, require_images=False)  # timed on one dataset
    if not cells:
        raise ConfigError("nothing to estimate: no cell matches the filters in this profile")
    if from_gpu_report:  # no GPU here: the one-shot cells' GPU steps come from a report
        cells = [c for c in cells if isinstance(c, OneShotCell)]
        if not cells:
            raise ConfigError(f"--device {device}: no CUDA device here, and only one-shot "
                              "steps can be read from a gpu-check report; add --kind oneshot "
                              "or run the estimate on a GPU machine")
        where = Path(args.gpu_report) if args.gpu_report else default_report()
        lines = from_report(cells, reg, load_report(where), str(where))
        print(f"[harness] no CUDA device here: one-shot GPU steps read from {where}",
              file=sys.stderr)
    else:
        lines = estimate(cells, reg, archs=args.archs, steps=args.steps,
                         progress=lambda m: print(f"[harness] {m}", file=sys.stderr))
    rows, hours = summary_table(lines, device)
    unit = "GPU-hours" if device.startswith("cuda") else "CPU-core-hours (one thread a cell)"
    if args.json:
        json.dump({"profile": profile["name"], "device": device, "unit": unit,
                   "hours": hours, "lines": rows}, sys.stdout, indent=1)
        print()
        return 0
    print(tabulate(rows, headers="keys", tablefmt="github"))
    print(f"\nESTIMATE for profile '{profile['name']}' on {device}, from the seconds measured "
          f"above: " + ", ".join(f"{k} {'not measured' if v is None else f'{v:,.1f}'}"
                                 for k, v in hours.items()) + f" {unit}. "
          "Excludes start-up, conversion and the supernet-ranking evaluation; divide by the "
          "number of devices for the wall-clock time of a cluster.")
    return 0


def _cuda_here() -> bool:
    import torch

    return torch.cuda.is_available()


def add_parser(sub) -> None:
    x = sub.add_parser("estimate", help="device-hours a profile needs, measured here first",
                       description="Time a few units of every kind of cell of a profile on "
                                   "this device (a search cell per method and dataset, every "
                                   "proxy on a few archs, a few supernet steps per one-shot "
                                   "method) and scale them to the profile: an estimate.")
    x.add_argument("--profile", default="paper", help="profile name or JSON (default: paper)")
    x.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    x.add_argument("--kind", choices=("search", "proxy", "oneshot"), help="only this kind")
    x.add_argument("--benchmark", action="append", help="only this benchmark (repeatable)")
    x.add_argument("--steps", type=int, default=2, help="timed supernet steps per one-shot "
                   "method, after one warm-up step (default: 2)")
    x.add_argument("--archs", type=int, default=3, help="timed archs per proxy sample "
                   "(default: 3)")
    x.add_argument("--gpu-report", metavar="FILE", help="with --device cuda on a machine "
                   "without one: the gpu-check report to read the one-shot GPU steps from "
                   "(default: NAS_HARNESS_HOME/gpu-check.json); methods it lacks are 'not "
                   "measured'")
    x.add_argument("--json", action="store_true", help="print JSON")
    x.set_defaults(func=cmd_estimate)
