"""Numeric and path arguments of ``run``, checked before any work starts: each bad value
is one line naming the flag, the value, the allowed range and the fix."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from harness.core.errors import ConfigError

#: flag -> (attribute, lowest, highest, the allowed values in words)
BOUNDS = {
    "--jobs": ("jobs", 1, 1024, "worker processes from 1 to 1024"),
    "--batch-seeds": ("batch_seeds", 1, 64, "seeds per stacked supernet from 1 to 64"),
    "--seeds": ("seeds", 1, 100_000, "seeds per method and dataset from 1 to 100000"),
    "--retries": ("retries", 0, 100, "retries of a cell whose worker died from 0 to 100"),
    "--cell-minutes": ("cell_minutes", 0, 1e6, "minutes from 0 (no limit) to 1000000"),
    "--proxy-minutes": ("proxy_minutes", 0, 1e6, "minutes from 0 (no limit) to 1000000"),
    "--oneshot-minutes": ("oneshot_minutes", 0, 1e6, "minutes from 0 (no limit) to 1000000"),
}


def bounded(flag: str, value, lo: float, hi: float, allowed: str) -> None:
    """ConfigError unless ``value`` is a finite number in [lo, hi]."""
    ok = isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi
    if not ok:
        shown = f"{value:g}" if isinstance(value, float) else value
        raise ConfigError(f"{flag} {shown}: give {allowed}")


def output_folder(flag: str, path: str | os.PathLike) -> Path:
    """A folder the run may write into: created now (with its parents) if missing, so a bad
    path fails before any cell runs, not after."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"{flag} {p}: is a file, not a folder; choose a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{flag} {p}: cannot create it ({exc.strerror}); choose a folder "
                          "you can write to") from None
    if not os.access(p, os.W_OK):
        raise ConfigError(f"{flag} {p}: not writable; choose a folder you can write to")
    return p


def check_run_args(args: argparse.Namespace) -> None:
    """Every bounded number and output path of ``run`` (see :data:`BOUNDS`)."""
    for flag, (attr, lo, hi, allowed) in BOUNDS.items():
        value = getattr(args, attr, None)
        if value is not None:
            bounded(flag, value, lo, hi, allowed)
    if args.store is not None:
        if not str(args.store).strip():
            raise ConfigError("--store '': give the path of a results file, e.g. "
                              "--store results.sqlite")
        if Path(args.store).is_dir():
            raise ConfigError(f"--store {args.store}: is a folder; give a file inside it, "
                              f"e.g. {Path(args.store) / 'results.sqlite'}")
        if Path(args.store).is_file():  # a foreign or damaged store: refused before any work
            from harness.core.store import check_store_file

            check_store_file(Path(args.store))
    if args.out is not None or args.all:
        output_folder("--out", args.out or "leaderboard")
