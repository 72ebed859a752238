"""Seconds per one-shot search step, ours against the NB201 authors' own code (``xautodl``),
measured in ONE process, interleaved (ours, reference, ours, ...), medians of the rounds.

    python tests/bench/oneshot_vs_reference.py --json      # DARTS-V1, C=16 N=5, 1 thread
    python tests/bench/oneshot_vs_reference.py --table     # every method, size and thread

A step is what the search loop does per batch pair: DARTS-V1 (``DARTS-V1.py``'s
``search_func``: weight step on 64 training images, then alpha step on 64 architecture
images), GDAS (``GDAS.py``: the same with a Gumbel draw per forward) and a single-path step
(RSPS, ``RANDOM-NAS.py``: a uniform cell, one weight step; ours is SPOS's step, which also
evaluates the drawn path on the architecture batch without gradient, as our log records).
The reference runs its own model classes with the optimisers of its configs; the batches
are random tensors (the data pipeline is not what is compared).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

#: (C, N): the paper size and the default profile's reduced one-shot configuration
SIZES = {"reduced": (8, 1), "paper": (16, 5)}
REFERENCE_KIND = {"darts-v1": "DARTS", "gdas": "GDAS", "spos": "RANDOM"}


def batch(seed: int, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


def our_context(name: str, C: int, N: int, batch_size: int = 64, seed: int = 0):
    """(method, context) of our one-shot ``name`` ready for ``method._step`` (set up, epoch
    begun, learning rate set), on a tiny placeholder pool (steps get their batches)."""
    from adapters.images import CIFAR_MEAN, CIFAR_STD
    from adapters.nb201_search_data import SearchPools
    from harness.core.registry import default_registry
    from harness.core.seeds import generator, torch_generator
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.context import OneShotContext
    from harness.oneshot.runner import build_supernet

    cls = default_registry().get(name)
    cfg = OneShotConfig("reduced", C=C, N=N, batch_size=batch_size, epochs=1)
    x = np.zeros((batch_size, 32, 32, 3), np.uint8)
    y = np.zeros(batch_size, np.int64)
    pools = SearchPools("cifar10", x, y, x, y, 10, CIFAR_MEAN, CIFAR_STD, 4, "")
    cell = OneShotCell(name, "nb201", "cifar10", seed, cfg, 1, "cpu", 1)
    method = cls()
    ctx = OneShotContext(build_supernet(cls, cell, 10), pools, cfg, cls, "cpu",
                         method.hyperparameters, 1, 100)
    ctx.rng, ctx.torch_gen = generator(cell.stream("b")), torch_generator(cell.stream("t"))
    method._setup(ctx)
    method._epoch_begin(ctx)
    ctx._set_lr()
    return method, ctx


def our_step(name: str, C: int, N: int) -> tuple[Callable[[], object], torch.nn.Module]:
    """(one search step of ours, the supernet it trains)."""
    method, ctx = our_context(name, C, N)
    train, valid = batch(0), batch(1)
    return (lambda: method._step(ctx, train, valid)), ctx.supernet


def reference_step(name: str, C: int, N: int) -> tuple[Callable[[], None], torch.nn.Module]:
    """(one step of the reference search loop's body for ``name`` on its own model class, with the
    optimisers of its configs (SGD 0.025 Nesterov, wd 5e-4, clip 5; Adam 3e-4 (0.5, 0.999)
    wd 1e-3 for alpha), the reference model)."""
    from tests.reference_nb201 import reference_model

    torch.manual_seed(0)
    random.seed(0)  # RANDOM-NAS draws its cells from the global ``random``
    net = reference_model(REFERENCE_KIND[name], C, N, 10).train()
    weights = net.get_weights() if hasattr(net, "get_weights") else list(net.parameters())
    w_opt = torch.optim.SGD(weights, lr=0.025, momentum=0.9, weight_decay=5e-4,
                            nesterov=True)
    a_opt = (torch.optim.Adam(net.get_alphas(), lr=3e-4, betas=(0.5, 0.999),
                              weight_decay=1e-3) if name != "spos" else None)
    if name == "gdas":
        net.set_tau(10.0)
    train, valid = batch(0), batch(1)

    def step() -> None:
        if name == "spos":
            net.random_genotype(True)
        w_opt.zero_grad()
        _, logits = net(train[0])
        F.cross_entropy(logits, train[1]).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5)
        w_opt.step()
        if a_opt is not None:
            a_opt.zero_grad()
            _, logits = net(valid[0])
            F.cross_entropy(logits, valid[1]).backward()
            a_opt.step()
    return step, net


def interleaved(make: Callable[[], dict[str, Callable[[], object]]], threads: int,
                rounds: int) -> dict[str, float]:
    """Median seconds of each of the steps ``make()`` builds (with ``threads`` torch
    threads), run interleaved for ``rounds`` rounds after one warm-up call each."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fns = make()
        for fn in fns.values():
            fn()
        times: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(rounds):
            for key, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    return {k: statistics.median(v) for k, v in times.items()}


def measure(name: str = "darts-v1", C: int = 16, N: int = 5, threads: int = 1,
            rounds: int = 5) -> dict:
    """Median seconds per step of ours and the reference, interleaved in this process, after
    one warm-up step each."""
    o, r = interleaved(lambda: {"ours": our_step(name, C, N)[0],
                                "reference": reference_step(name, C, N)[0]},
                       threads, rounds).values()
    return {"method": name, "C": C, "N": N, "threads": threads, "rounds": rounds,
            "ours_s": round(o, 4), "reference_s": round(r, 4), "ratio": round(o / r, 3)}


def table(rounds: int) -> str:
    rows = ["| method | size | threads | ours s/step | reference s/step | ratio |",
            "|---|---|---|---|---|---|"]
    for name in REFERENCE_KIND:
        for size, (C, N) in SIZES.items():
            for threads in (1, 2):
                m = measure(name, C, N, threads, rounds)
                rows.append(f"| {name} | {size} C={C} N={N} | {threads} | {m['ours_s']:.3f} "
                            f"| {m['reference_s']:.3f} | {m['ratio']:.2f} |")
                print(rows[-1], flush=True)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true",
                   help="one JSON object: DARTS-V1 at C=16 N=5 (or --method/--C/--N), 1 thread")
    p.add_argument("--table", action="store_true",
                   help="a Markdown table: DARTS-V1, GDAS, single path x paper, reduced x 1, 2 "
                        "threads")
    p.add_argument("--method", default="darts-v1", choices=sorted(REFERENCE_KIND))
    p.add_argument("--C", type=int, default=16)
    p.add_argument("--N", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    a = p.parse_args(argv)
    if a.table:
        table(a.rounds)
        return 0
    m = measure(a.method, a.C, a.N, a.threads, a.rounds)
    print(json.dumps(m) if a.json else
          f"{m['method']} C={a.C} N={a.N}, {a.threads} thread(s): ours {m['ours_s']:.3f} s, "
          f"reference {m['reference_s']:.3f} s, ratio {m['ratio']:.2f}")
    return 0


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script
    raise SystemExit(main())
