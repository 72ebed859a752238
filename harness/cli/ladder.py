"""``python -m harness ladder``: the one-shot fidelity ladder (:mod:`harness.run.ladder`)."""

from __future__ import annotations

import argparse


def cmd_ladder(args: argparse.Namespace) -> int:
    from harness.api import OneShotMethod
    from harness.core.errors import ConfigError
    from harness.core.registry import default_registry
    from harness.run import ladder

    if not issubclass(default_registry().get(args.method), OneShotMethod):
        raise ConfigError(f"ladder: {args.method} is not a one-shot method; the ladder runs "
                          "supernet searches (see `python -m harness list`)")
    for flag, v in (("--batch", args.batch), ("--seeds", args.seeds)):
        if v < 1:
            raise ConfigError(f"ladder: {flag} {v} must be a positive integer")
    if args.rank and args.rank < 3:
        raise ConfigError(f"ladder: --rank {args.rank} is too few archs for a rank "
                          "correlation; give at least 3 (the survey's check uses 100)")
    return ladder.run(args)


def add_parser(sub) -> None:
    x = sub.add_parser(
        "ladder", help="one-shot fidelity ladder: a method at growing CPU configurations",
        description="Run a one-shot method (DARTS-V1 by default) on NB201 CIFAR-10 at growing "
                    "configurations (C, N, images, epochs) and record per epoch the mean "
                    "skip_connect weight, the derived cell's skip edges and its table "
                    "accuracy (optionally the supernet's Kendall tau on K stratified archs). "
                    "Finished cells are appended to a JSON-lines file, running cells "
                    "checkpoint every epoch: rerun the same command to resume. The "
                    "leaderboard's ladder figure reads these records.")
    from harness.run.ladder import add_arguments

    add_arguments(x)
    x.set_defaults(func=cmd_ladder)
