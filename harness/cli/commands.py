"""Sub-commands of the core: list, run, export, leaderboard (verify: harness.cli.verify)."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
from pathlib import Path

from harness.cli import summary as summary_out
from harness.core import config
from harness.core.errors import ConfigError


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr, flush=True)


def _default_store(profile: str, create: bool = True) -> Path:
    """Where ``run`` keeps a profile's rows unless given ``--store``."""
    d = config.cache_home() / "results"
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d / f"{profile}.sqlite"


def _existing_store(given: str | None) -> Path:
    """The store ``export``/``leaderboard`` read: ``--store``, else the default profile's."""
    path = Path(given) if given else _default_store("default", create=False)
    if not path.exists():
        where = "" if given else (" (the default: 'run' writes NAS_HARNESS_HOME/results/"
                                  "<profile>.sqlite unless given --store)")
        raise ConfigError(f"store {path} not found{where}; run 'python -m harness run --all' "
                          "first or pass --store FILE")
    return path


# ---- list ---------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    from harness.core.registry import default_registry

    reg = default_registry()
    classes, errors = reg.load_all()
    for e in errors:
        _warn(e + " (skipped)")
    infos = [reg.info(n) for n in classes]
    if args.json:
        print(json.dumps(infos, indent=1))
    else:
        from tabulate import tabulate

        print(tabulate([{k: i[k] for k in ("name", "kind", "version", "needs_gpu", "origin",
                                          "summary")} for i in infos], headers="keys"))
    return 0


# ---- run ----------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    import adapters
    from harness.core.cellbase import _get_bench, _now
    from harness.core.registry import default_registry
    from harness.core.runlog import StageClock, describe
    from harness.core.store import open_store
    from harness.report import leaderboard
    from harness.run import engine as runner
    from harness.run.plan import Plan, plan
    from harness.run.profile import ladder_methods, load_profile

    if not args.all and not args.methods:
        raise ConfigError("name methods to run (see 'python -m harness list') or pass --all")
    from harness.cli.checks import check_run_args

    check_run_args(args)  # every bound and output path, before any work
    profile = load_profile(args.profile)
    reg = default_registry()
    if args.all:
        methods, errors = reg.load_all()
        for e in errors:
            _warn(e + " (skipped; the other methods still run)")
    else:
        methods, errors = {n: reg.get(n) for n in args.methods}, []
    if args.kind:
        methods = {n: c for n, c in methods.items() if c.kind == args.kind}
    for b in args.benchmark or []:
        adapters.spec(b)

    runner.drop_unavailable(profile, _warn, benchmarks=args.benchmark,
                            kinds={c.kind for c in methods.values()})
    known: set[str] = set()
    for b in {*(args.benchmark or []), *(profile.get("search") or {}).get("benchmarks", {})}:
        if args.benchmark and b not in args.benchmark:
            continue
        known |= set(_get_bench(b).datasets)  # converts on first use
    for ds in args.dataset or []:
        if ds not in known:
            from harness.core.errors import unknown

            raise unknown("dataset", ds, known)
    remote = args.executor == "ray"
    device = check_device(args.device, elsewhere=remote)  # a Ray cluster: checked below
    cells = plan(profile, methods, benchmarks=args.benchmark, datasets=args.dataset,
                 seeds=args.seeds, device=device, warn=_warn)
    if args.cell_minutes is not None:  # search cells, and each proxy on each arch
        cells = [dataclasses.replace(c, minutes=args.cell_minutes or None)
                 if "minutes" in {f.name for f in dataclasses.fields(c)} else c
                 for c in cells]
    minutes, one_min = args.proxy_minutes, args.oneshot_minutes  # time boxes: by choice
    if not cells:
        raise ConfigError("nothing to run: no cell matches the methods/benchmark/dataset "
                          "filters in this profile")
    from harness.run.executors import default_proxy_jobs

    # torch stages (score tables, proxy sweep, one-shot cells): one worker per core
    workers = args.jobs or default_proxy_jobs(device)
    executor = None  # local: the engine picks this process or a pool per phase
    if args.executor != "local" or args.address:
        executor = runner.make_executor(args.executor, jobs=args.jobs or 1,
                                        address=args.address, retries=args.retries)
    try:
        if remote and device.startswith("cuda") and executor.gpus < 1:
            raise ConfigError(f"--device {device}: the Ray cluster has no GPU; start its "
                              "nodes with 'ray start ... --num-gpus N' or use --device cpu")
        # opened only now: a run refused above leaves no store behind
        store = open_store(Path(args.store) if args.store else _default_store(profile["name"]))
        print(f"[harness] profile '{profile['name']}': {len(cells)} cells "
              f"({len(methods)} methods) -> store {store.path}", file=sys.stderr)
        clock, started, rows_before = StageClock(), _now(), len(store.keys())
        if not (args.quiet or args.no_eta or remote):
            from harness.run.eta import eta_line

            print("[harness] " + eta_line(
                runner.pending(cells, store, reg), reg, store.path, jobs=args.jobs or 1,
                proxy_jobs=workers, oneshot_jobs=workers), file=sys.stderr)
        summary = runner.execute(cells, store, reg, jobs=args.jobs or 1, clock=clock,
                                 progress=not args.quiet, proxy_minutes=minutes or None,
                                 oneshot_minutes=one_min or None, proxy_jobs=workers,
                                 oneshot_jobs=workers, executor=executor,
                                 batch_seeds=args.batch_seeds or 1)
    finally:
        if executor is not None:
            executor.close()
    print(f"ran {summary.ran} cells, skipped {summary.skipped} already stored, "
          f"{len(summary.failed)} failed; store: {store.path}")
    _print_sweep(summary, minutes)
    if summary.oneshot_paused:
        print(f"one-shot: {len(summary.oneshot_paused)} cells left for the next run at the "
              f"{one_min:g}-minute time box ({'; '.join(summary.oneshot_paused[:3])}"
              f"{' ...' if len(summary.oneshot_paused) > 3 else ''}); their epochs are "
              "checkpointed: run the same command again to continue, without "
              "--oneshot-minutes to finish in one go.")
    for f in summary.failed:
        _warn(f"cell failed: {f}")
    if not (args.out or args.all):  # no leaderboard: the numbers of what this run covers
        summary_out.print_ran(store, reg, set(methods), args)
    summary_out.log_run(store, profile["name"], started, rows_before, summary)
    if args.out or args.all:
        out = Path(args.out) if args.out else Path("leaderboard")
        with clock.stage("leaderboard"):
            res = leaderboard.build(store, out, reg, profile=profile["name"],
                                    plan=Plan(cells), ladder=ladder_methods(profile))
        summary_out.print_summary(res)
        used, outside = res["_store"]["rows_used"], res["_store"]["rows_outside_plan"]
        new = min(used, summary.ran - len(summary.failed))
        print(f"leaderboard from {used} rows of this run's plan: {new} computed now, "
              f"{used - new} stored by earlier runs"
              + (f"; {outside} other stored rows (other profiles, filters or budgets) left "
                 "out" if outside else ""))
        print(f"leaderboard: {out}/README.md, {out}/index.html, {out}/results.json, "
              f"{len(res['figures'])} figures")
    print(f"time per stage: {describe(clock.seconds)}")
    store.close()
    return 3 if (summary.failed or errors) else 0


def _print_sweep(summary, minutes: float | None) -> None:
    """How far the score-table builds and the proxy sweep are, and how to finish them."""
    for t in summary.tables:
        state = (f"written to {t.path}" if t.path else
                 f"{t.scored}/{t.total} archs scored"
                 + (f" ({t.failed})" if t.failed else "; run the same command again to "
                    "continue (scores are cached), the search cells that read it failed"))
        print(f"score table {t.proxy} {t.benchmark}/{t.dataset}: {state}")
    rep = summary.sweep
    if rep is None or not rep.progress:
        return
    parts = [f"{b}/{d}{'' if s == 0 else f' seed {s}'} {k}/{n}"
             for (b, d, s, *_), (k, n) in rep.progress.items()]
    left = sum(n - k for k, n in rep.progress.values())
    print("proxy sweep: archs scored " + ", ".join(parts))
    if left:
        rate = rep.seconds / rep.scored_now if rep.scored_now else None
        eta = f" (about {left * rate / 60:.0f} more minutes at this run's rate)" if rate else ""
        print(f"proxy sweep stopped at its {minutes:g}-minute time box with {left} archs to "
              f"go{eta}; {summary.partial} proxy cells were stored on the archs scored so "
              "far. Run the same command again to continue (scores are cached), or run it "
              "without --proxy-minutes to finish in one go.")


def check_device(name: str, elsewhere: bool = False) -> str:
    """``name`` if this machine (or, ``elsewhere``, a cluster checked later) can use it."""
    if name.startswith("cuda") and not elsewhere:
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: no CUDA device is available here; use "
                              "--device cpu")
    elif name != "cpu" and not name.startswith("cuda"):
        raise ConfigError(f"--device {name}: choose cpu or cuda[:N]")
    return name


# ---- export / leaderboard -----------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from harness.core.store import COLUMNS, VOLATILE, json_safe, open_store, without_volatile

    rows = open_store(_existing_store(args.store)).rows()
    if args.drop_volatile:
        rows = [without_volatile(r) for r in rows]
    cols = [c for c in COLUMNS if not (args.drop_volatile and c in VOLATILE)]
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        if args.format == "json":
            # strict JSON: NaN/inf become null, listed per row under "_nonfinite"
            json.dump([json_safe({c: r[c] for c in cols}) for r in rows], out, indent=1,
                      sort_keys=True, allow_nan=False)
            out.write("\n")
        else:
            w = csv.writer(out)
            w.writerow(cols)
            for r in rows:
                w.writerow([json.dumps(json_safe(r[c]), sort_keys=True, allow_nan=False)
                            if isinstance(r[c], dict) else r[c] for c in cols])
    finally:
        if args.output:
            out.close()
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from harness.cli.checks import output_folder
    from harness.core.registry import default_registry
    from harness.core.store import open_store
    from harness.report import leaderboard
    from harness.run.profile import PROFILE_DIR, ladder_methods, load_profile

    path = _existing_store(args.store)
    store = open_store(path)
    reg = default_registry()
    # a store named after a built-in profile (the default store of 'run') records its name
    name = args.profile or (path.stem if (PROFILE_DIR / f"{path.stem}.json").exists()
                            else None)
    res = leaderboard.build(store, output_folder("--out", args.out), reg, profile=name,
                            plan=profile_plan(name, reg) if name else None,
                            ladder=ladder_methods(load_profile(name)) if name else None)
    summary_out.print_summary(res)
    outside = res["_store"]["rows_outside_plan"]
    print(f"leaderboard written to {args.out} from {res['_store']['rows_used']} rows"
          + (f" of profile '{name}' ({outside} other stored rows left out)" if name else ""))
    return 0


def profile_plan(name: str, reg):
    """The :class:`~harness.run.plan.Plan` of a profile over every registered method, as
    ``run --all`` would plan it here (benchmarks that are not here are left out quietly)."""
    from harness.run.plan import Plan, profile_cells

    return Plan(profile_cells(name, reg.load_all()[0])[1])


# ---- parsers ------------------------------------------------------------------------------
def add_parsers(sub, parser_class) -> None:
    from harness.run.profile import profile_names

    x = sub.add_parser("list", help="registered methods (built-in and plugins)")
    x.add_argument("--json", action="store_true", help="print JSON")
    x.set_defaults(func=cmd_list)

    x = sub.add_parser("run", help="run methods under fixed seeds and budgets",
                       description="Run methods on benchmarks; each finished cell is stored "
                                   "at once, and cells already stored are skipped (resume).")
    x.add_argument("methods", nargs="*", metavar="NAME", help="methods to run")
    x.add_argument("--all", action="store_true", help="every registered method")
    x.add_argument("--profile", default="default",
                   help=f"{', '.join(profile_names())} or a JSON file (default: default)")
    x.add_argument("--benchmark", action="append", help="only this benchmark (repeatable)")
    x.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    x.add_argument("--seeds", type=int, help="override the profile's number of seeds")
    x.add_argument("--kind", choices=("search", "proxy", "oneshot"),
                   help="only methods of this kind")
    x.add_argument("--store", help="results database (default: NAS_HARNESS_HOME/results/"
                                   "<profile>.sqlite)")
    x.add_argument("--out", help="leaderboard folder (default with --all: ./leaderboard)")
    x.add_argument("--jobs", type=int, help="local worker processes (default: one per "
                   "usable CPU core for the score tables, the proxy sweep and the one-shot "
                   "cells, each with one torch thread; one for search cells)")
    x.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N] for torch methods")
    x.add_argument("--batch-seeds", type=int, metavar="K",
                   help="train up to K seeds of a one-shot method that supports it (DARTS-V1) "
                        "as one stacked supernet; the rows are the same as one by one. Worth "
                        "it on a GPU; on a CPU it is slower than --jobs (default: 1)")
    x.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where cells run: local processes (default) or Ray tasks (pip "
                        "install 'nas-harness[ray]'); the rows are the same either way")
    x.add_argument("--address", metavar="ADDR", help="Ray cluster to join, e.g. "
                   "HOST:6379 (default: a local Ray instance on 127.0.0.1)")
    x.add_argument("--retries", type=int, metavar="N", help="with --executor ray: times a "
                   "cell whose worker died is retried (default: 3)")
    x.add_argument("--proxy-minutes", type=float, metavar="M",
                   help="stop this run's proxy sweep after M minutes (default and 0: no time "
                        "box). Scores are cached, so the next run continues the sweep")
    x.add_argument("--oneshot-minutes", type=float, metavar="M",
                   help="start no one-shot cell after M minutes (default and 0: no time box). "
                        "Epochs are checkpointed, so the next run continues")
    x.add_argument("--cell-minutes", type=float, metavar="M",
                   help="wall-clock limit of each search cell and of each proxy on each "
                        "arch; past it the cell (or the proxy's cells) is stopped and "
                        "recorded as failed (default: 10; 0: no limit)")
    x.add_argument("--quiet", action="store_true", help="no progress bar and no ETA")
    x.add_argument("--no-eta", action="store_true", help="start at once: do not time a few "
                   "units of each stage first for the ETA (about a minute on the default "
                   "profile)")
    x.set_defaults(func=cmd_run)

    store_help = "results database (default: NAS_HARNESS_HOME/results/default.sqlite)"
    x = sub.add_parser("export", help="write all rows of a store as CSV or JSON")
    x.add_argument("--store", help=store_help)
    x.add_argument("--format", choices=("csv", "json"), default="csv")
    x.add_argument("--output", "-o", help="file (default: stdout)")
    x.add_argument("--drop-volatile", action="store_true",
                   help="omit times (columns and the measured seconds inside results), "
                        "host, commit and device: what remains is identical across runs, "
                        "executors and machines (for diffs)")
    x.set_defaults(func=cmd_export)

    x = sub.add_parser("leaderboard", help="regenerate the leaderboard from a store")
    x.add_argument("--store", help=store_help)
    x.add_argument("--out", default="leaderboard")
    x.add_argument("--profile", metavar="NAME",
                   help="build from the rows of this profile's plan only, and mark groups "
                        "with fewer seeds than it plans (default: the profile the store is "
                        "named after, e.g. default.sqlite; otherwise every current row)")
    x.set_defaults(func=cmd_leaderboard)

