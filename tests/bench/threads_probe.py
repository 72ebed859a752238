"""Seconds per NB201 forward+backward (batch 64, CIFAR-10 shapes) in THIS process, with the
torch threads given on the command line; run by test_bench_threads.py in fresh processes
(OMP_WAIT_POLICY only takes effect before torch starts its thread pool).

    python tests/bench/threads_probe.py THREADS PASSES   ->  prints {"median": s, "all": [...]}
"""

from __future__ import annotations

import json
import sys
import time

import torch
import torch.nn.functional as F

from adapters.nb201_model import NB201Network


def main() -> None:
    threads, passes = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    model = NB201Network([3, 3, 4, 0, 3, 4], 10).train()  # arch 11's cell
    x = torch.randn((64, 3, 32, 32), generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    times = []
    for i in range(passes + 1):
        t = time.perf_counter()
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        if i:  # the first pass warms up
            times.append(time.perf_counter() - t)
    times.sort()
    print(json.dumps({"median": times[len(times) // 2], "all": times}))


if __name__ == "__main__":
    main()
