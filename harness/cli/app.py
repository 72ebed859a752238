"""Command-line interface: ``python -m harness`` (also installed as ``nas-harness``).

Every user-facing failure is a :class:`~harness.core.errors.HarnessError`: it is printed as one
line (what, why, how to fix) on stderr with exit status 2, never as a traceback. Set
``HARNESS_DEBUG=1`` to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import __version__
from harness.core import config
from harness.core.errors import ConfigError, HarnessError


def _progress(msg: str) -> None:
    print(f"[harness] {msg}", file=sys.stderr, flush=True)


# ---- data ---------------------------------------------------------------------------------
def cmd_data_list(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    import adapters

    rows = []
    root = config.data_root()
    for name in adapters.names():
        sp = adapters.spec(name)
        path = adapters.cache_path(name)
        if path.exists() and adapters.converted_version(path) == sp.converter_version:
            status = f"converted ({path})"
        elif sp.shared_present(root):
            status = f"available from the data root ({root}); converted on first use"
        else:
            status = f"convert from the official file: {sp.official_files}"
        rows.append({"name": name, "status": status, "description": sp.description})
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(tabulate(rows, headers="keys"))
    return 0


def benchmark_info(bench) -> dict:
    """The summary ``data info`` prints (also used by tests and the leaderboard)."""
    import numpy as np

    metrics = {ds: bench.metrics(ds) for ds in bench.datasets}
    best = {}
    for ds, ms in metrics.items():
        best[ds] = {m: round(bench.best(m, ds), 4) for m in ms
                    if (not m.endswith("loss") or m.endswith("neg_loss"))
                    and (not m.startswith("robust_") or m == "robust_clean_acc")}
    side = json.loads(Path(str(bench.path) + ".sha256").read_text())
    return {
        "benchmark": bench.name,
        "schema_version": int(bench.h5.attrs["schema_version"]),
        "converter_version": bench.h5.attrs["converter_version"],
        "num_archs": bench.num_archs,
        "num_iso_classes": int(len(np.unique(bench.iso_class))),
        "datasets": bench.datasets,
        "metrics": metrics,
        "costs": {ds: bench.h5.costs(ds) for ds in bench.datasets},
        "best": best,
        "sha256": side["sha256"],
        "path": str(bench.path),
        "created": bench.h5.attrs.get("created"),
        "cite": bench.h5.attrs.get("cite"),
        "sources": [{k: s.get(k) for k in ("name", "sha256", "bytes")} for s in bench.source],
        "provenance": {s["name"]: s.get("provenance", "").splitlines()[:12]
                       for s in bench.source},
        "extra": bench.extra,
    }


def cmd_data_info(args: argparse.Namespace) -> int:
    import adapters

    bench = (adapters.open_file(args.name, Path(args.file)) if args.file
             else adapters.load_benchmark(args.name, _progress))
    info = benchmark_info(bench)
    if args.json:
        print(json.dumps(info, indent=1, default=str))
        return 0
    from tabulate import tabulate

    print(f"{info['benchmark']}: {info['num_archs']} archs, {info['num_iso_classes']} "
          f"isomorphism classes, layout v{info['schema_version']} "
          f"({info['converter_version']})")
    print(f"file: {info['path']}\nsha256: {info['sha256']}\ncite: {info['cite']}")
    rows = [[ds, m, v] for ds, ms in info["best"].items() for m, v in ms.items()]
    print(tabulate(rows, headers=["dataset", "metric", "best"], floatfmt=".2f"))
    print("sources:")
    for s in info["sources"]:
        print(f"  {s['name']}  sha256 {str(s['sha256'])[:16]}...  {s['bytes']} bytes")
        for ln in _provenance_lines(s["name"], bench):
            print(f"      {ln[:110]}")
    return 0


def _provenance_lines(name: str, bench) -> list[str]:
    """The PROVENANCE.txt lines that describe file ``name`` (its repo/source and commit)."""
    text = next((s.get("provenance", "") for s in bench.source if s["name"] == name), "")
    lines = [ln.strip() for ln in text.splitlines()]
    base = name.rsplit("/", 1)[-1]
    for i, ln in enumerate(lines):
        if ln.startswith("file:") and base in ln:
            keep = [x for x in lines[i + 1:i + 6] if x.split(":")[0] in (
                "repo", "source", "commit", "what", "license")]
            return keep[:3]
    return [ln for ln in lines if ln.startswith(("source:", "what:"))][:2]


def cmd_data_convert(args: argparse.Namespace) -> int:
    import adapters

    adapters.spec(args.name)  # an unknown name: one line with suggestions
    out = Path(args.out) if args.out else adapters.cache_path(args.name)
    if not args.out:
        out.parent.mkdir(parents=True, exist_ok=True)
    elif not out.parent.exists():
        raise ConfigError(f"output folder {out.parent} does not exist; create it or choose "
                          "another --out")
    src = Path(args.source) if args.source else config.data_root()
    if src is None:
        raise ConfigError("nothing to convert from: pass --from PATH (an official release or "
                          "the raw-data folder) or set NAS_HARNESS_DATA / --data-root")
    if not src.exists():
        raise ConfigError(f"--from {src}: no such file or folder; give the path of an official "
                          "release file or of the raw-data folder")
    digest = adapters.convert_from(args.name, src, out, _progress)
    print(f"converted {args.name} -> {out} (sha256 {digest})")
    return 0


def cmd_data_verify(args: argparse.Namespace) -> int:
    import adapters
    from harness.data.h5layout import verify_file

    adapters.spec(args.name)  # an unknown name: one line with suggestions
    path = Path(args.file) if args.file else adapters.cache_path(args.name)
    res = verify_file(path, args.name)
    print(f"ok: {res['path']} sha256 {res['sha256']} ({res['bytes']} bytes, "
          f"{res['arrays_checked']} arrays checked)")
    return 0


# ---- parser -------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line with exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        raise ConfigError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m harness",
        description="nas-harness: reproducible NAS benchmarking. Converts NAS benchmarks to "
                    "versioned HDF5, runs every registered method under fixed seeds and "
                    "budgets, and regenerates the survey's tables as a leaderboard.",
        epilog="Data: raw files are read from --data-root / NAS_HARNESS_DATA and converted "
               "into NAS_HARNESS_HOME (default ~/.cache/nas-harness) on first use.")
    p.add_argument("--version", action="version", version=f"nas-harness {__version__}")
    p.add_argument("--data-root", metavar="DIR",
                   help="raw-data folder (default: $NAS_HARNESS_DATA)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    d = sub.add_parser("data", help="list, inspect, convert and verify benchmark files",
                       description="Benchmark data files: list, info, convert, verify.")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser)
    x = dsub.add_parser("list", help="benchmarks and whether they are converted/available")
    x.add_argument("--json", action="store_true", help="print JSON")
    x.set_defaults(func=cmd_data_list)
    x = dsub.add_parser("info", help="summary of a converted benchmark (converts on first use)")
    x.add_argument("name", help="benchmark name, e.g. nb201")
    x.add_argument("--file", help="inspect this converted file instead of the cache")
    x.add_argument("--json", action="store_true", help="print one JSON object")
    x.set_defaults(func=cmd_data_info)
    x = dsub.add_parser("convert", help="convert raw data or an official release to HDF5")
    x.add_argument("name", help="benchmark name, e.g. nb201")
    x.add_argument("--from", dest="source", metavar="PATH",
                   help="official release file/folder, or the raw-data folder "
                        "(default: the data root)")
    x.add_argument("--out", metavar="FILE", help="output file (default: the cache)")
    x.set_defaults(func=cmd_data_convert)
    x = dsub.add_parser("verify", help="check a converted file's checksums")
    x.add_argument("name", help="benchmark name, e.g. nb201")
    x.add_argument("--file", help="verify this file instead of the cache")
    x.set_defaults(func=cmd_data_verify)

    from harness.cli import commands

    commands.add_parsers(sub, _Parser)
    from harness.cli import verify as verify_cmd

    verify_cmd.add_parser(sub)
    from harness.cli import score as score_cmd

    score_cmd.add_parser(sub)
    from harness.cli import estimate as estimate_cmd

    estimate_cmd.add_parser(sub)
    from harness.cli import query as query_cmd

    query_cmd.add_parser(sub)
    from harness.cli import ladder as ladder_cmd

    ladder_cmd.add_parser(sub)
    from harness.cli import gpu_check as gpu_check_cmd

    gpu_check_cmd.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    # torch's OpenMP threads spin-wait by default, which makes a contended 2-core machine
    # an order of magnitude slower; set before torch (libgomp) is first imported
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.data_root:
            config.set_data_root(args.data_root)
        func = getattr(args, "func", None)
        if func is None:
            sub = args.command and parser._subparsers._group_actions[0].choices[args.command]
            (sub or parser).print_help()
            return 0 if args.command is None else 2
        return int(func(args) or 0)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted; finished results are stored, re-run the same command to resume",
              file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: still one line unless debugging
        if os.environ.get("HARNESS_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (set HARNESS_DEBUG=1 for the "
              "traceback and please report it)", file=sys.stderr)
        return 1
