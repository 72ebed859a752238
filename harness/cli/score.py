"""``python -m harness score``: one proxy's score of one architecture, with its time.

The score is the one a sweep of the ``default`` profile stores for the same (benchmark,
dataset, seed, arch): the same experiment seed, minibatch and network initialisation, so a
researcher can check a single leaderboard entry or probe a cell by hand.
"""

from __future__ import annotations

import argparse
import json
import math

from harness.core.errors import ConfigError


def _arch_index(bench, arch: str) -> int:
    """An official arch string, or an index into the benchmark's table."""
    if arch.isdigit():
        return int(bench.index([int(arch)])[0])
    return int(bench.index([arch])[0])


def score_one(bench_name: str, arch: str, proxy: str, *, dataset: str | None = None,
              seed: int = 0, device: str = "cpu", batch_size: int | None = None) -> dict:
    """Score ``arch`` with ``proxy``; a dict with the score (None when undefined or failed),
    its status (``ok``, ``worst``: undefined on this arch and ranked last, ``nan``: a
    numerical failure), the reason, and the seconds it took."""
    from adapters import load_benchmark
    from harness.api import Proxy
    from harness.cli.commands import check_device
    from harness.core.registry import default_registry
    from harness.proxies.cells import per_benchmark
    from harness.proxies.scoring import ArchScorer, unavailable
    from harness.run.profile import load_profile

    cls = default_registry().get(proxy)
    if not (isinstance(cls, type) and issubclass(cls, Proxy)):
        raise ConfigError(f"'{proxy}' is not a single zero-cost proxy (ensembles combine the "
                          "scores of a sample of archs); score one of its members instead")
    check_device(device)
    bench = load_benchmark(bench_name)
    profile = load_profile("default")
    sec = profile.get("proxies", {})
    ds = dataset or (sec.get("benchmarks", {}).get(bench_name) or bench.datasets)[0]
    if ds not in bench.datasets:
        from harness.core.errors import unknown

        raise unknown(f"dataset of {bench_name}", ds, bench.datasets)
    why = unavailable(cls, bench, ds)
    if why:
        raise ConfigError(f"{proxy} cannot run on {bench_name}/{ds} here: {why}")
    a = _arch_index(bench, arch)
    bs = batch_size or per_benchmark(sec, "batch_size", bench_name, 64)
    from harness.proxies.sweep import set_proxy_threads

    set_proxy_threads()  # the sweep's setting, so the value is the one it stores
    scorer = ArchScorer(cls, proxy, bench, ds, experiment_seed=profile["experiment_seed"],
                        seed=seed, batch_size=bs, device=device)
    value, seconds = scorer.score(a)
    if math.isinf(value) and value < 0 and not scorer.connected(a):
        status, reason = "worst", ("undefined: the cell has no input-to-output path, so the "
                                   "network's output does not depend on its input; ranked "
                                   "last (-inf)")
    elif math.isnan(value):
        status, reason = "nan", "numerical failure (NaN or inf); counted in the NaN column"
    else:
        status, reason = "ok", ""
    return {"benchmark": bench_name, "dataset": ds, "arch": str(bench.archs[a]), "index": a,
            "proxy": proxy, "proxy_version": cls.version, "seed": seed, "batch_size": bs,
            "device": device, "score": value if status == "ok" else None, "status": status,
            "reason": reason, "seconds": round(seconds, 4)}


def cmd_score(args: argparse.Namespace) -> int:
    """Print one proxy score (or why it is undefined) and the seconds it took."""
    out = score_one(args.benchmark, args.arch, args.proxy, dataset=args.dataset,
                    seed=args.seed, device=args.device, batch_size=args.batch_size)
    if args.json:
        print(json.dumps(out))
        return 0
    head = f"{out['proxy']} on {out['benchmark']}/{out['dataset']} arch {out['index']} " \
           f"({out['arch']}), seed {out['seed']}, batch {out['batch_size']}, {out['device']}"
    if out["status"] == "ok":
        print(f"{head}: {out['score']:.6g} ({out['seconds']:.3f} s)")
    else:
        print(f"{head}: {out['reason']} ({out['seconds']:.3f} s)")
    return 0


def add_parser(sub) -> None:
    """Register ``score`` on the top-level sub-parsers."""
    x = sub.add_parser(
        "score", help="one zero-cost proxy's score of one architecture",
        description="Score one architecture with one zero-cost proxy, with the default "
                    "profile's seeds, minibatch and initialisation (the value its sweep "
                    "stores), and print the seconds it took.")
    x.add_argument("benchmark", help="benchmark name, e.g. nb201")
    x.add_argument("arch", help="official arch string (e.g. '|nor_conv_3x3~0|+|...|') or an "
                                "index into the benchmark's table")
    x.add_argument("--proxy", required=True, help="proxy name (see 'list')")
    x.add_argument("--dataset",
                   help="dataset (default: the first the default profile sweeps, e.g. cifar10)")
    x.add_argument("--seed", type=int, default=0, help="proxy seed (default 0)")
    x.add_argument("--batch-size", type=int, help="minibatch size (default: the profile's)")
    x.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    x.add_argument("--json", action="store_true", help="print one JSON object")
    x.set_defaults(func=cmd_score)
