"""Throughput of batched seeds (``harness.oneshot.batched``): K DARTS-V1 seeds as one
stacked supernet step against K ordinary steps one after another, in ONE process,
interleaved, medians of the rounds.

    python tests/bench/batched_seeds.py             # K = 1, 2, 4 at the reduced size, 1 thread
    python tests/bench/batched_seeds.py --C 16 --N 5 --threads 2

Seed-steps per second are what a batched run buys: ``ratio`` > 1 means batching is faster.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch

from tests.bench.oneshot_vs_reference import batch, interleaved, our_context


def _batches(K: int) -> tuple[tuple, tuple]:
    trains = [batch(2 * k) for k in range(K)]
    valids = [batch(2 * k + 1) for k in range(K)]

    def stack(bs):
        return torch.stack([b[0] for b in bs]), torch.stack([b[1] for b in bs])

    return stack(trains), stack(valids)


def batched_step(K: int, C: int, N: int) -> tuple[Callable[[], object], dict]:
    """(one stacked DARTS-V1 step of K seeds, the stacked parameters it trains)."""
    from harness.oneshot.batched import BatchedContext

    pairs = [our_context("darts-v1", C, N, seed=k) for k in range(K)]
    bctx = BatchedContext([ctx for _, ctx in pairs])
    train, valid = _batches(K)
    return (lambda: pairs[0][0]._batched_step(bctx, train, valid)), bctx.params


def sequential_steps(K: int, C: int, N: int) -> tuple[Callable[[], object], list]:
    """(K ordinary DARTS-V1 steps one after another, their supernets)."""
    pairs = [our_context("darts-v1", C, N, seed=k) for k in range(K)]
    train, valid = _batches(K)

    def run() -> None:
        for k, (method, ctx) in enumerate(pairs):
            method._step(ctx, (train[0][k], train[1][k]), (valid[0][k], valid[1][k]))
    return run, [ctx.supernet for _, ctx in pairs]


def measure(K: int, C: int = 8, N: int = 1, threads: int = 1, rounds: int = 5) -> dict:
    b, s = interleaved(lambda: {"batched": batched_step(K, C, N)[0],
                                "sequential": sequential_steps(K, C, N)[0]},
                       threads, rounds).values()
    return {"K": K, "C": C, "N": N, "threads": threads, "batched_s": round(b, 4),
            "sequential_s": round(s, 4), "seed_steps_per_s_batched": round(K / b, 3),
            "seed_steps_per_s_sequential": round(K / s, 3), "ratio": round(s / b, 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--C", type=int, default=8)
    p.add_argument("--N", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args(argv)
    print("| K | batched s/step | K sequential steps s | seed-steps/s batched | sequential "
          "| speed-up |\n|---|---|---|---|---|---|")
    for K in (1, 2, 4):
        m = measure(K, a.C, a.N, a.threads, a.rounds)
        print(f"| {K} | {m['batched_s']:.3f} | {m['sequential_s']:.3f} | "
              f"{m['seed_steps_per_s_batched']:.2f} | {m['seed_steps_per_s_sequential']:.2f} | "
              f"{m['ratio']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script
    raise SystemExit(main())
