"""Batched seeds (``harness.oneshot.batched``) beside K ordinary steps, K = 1, 2, 4, at the
default profile's reduced size (``python tests/bench/batched_seeds.py`` prints the
interleaved throughput table)."""

from __future__ import annotations

import pytest
import torch

from tests.bench.batched_seeds import batched_step, sequential_steps


@pytest.mark.parametrize("mode", ["batched", "sequential"])
@pytest.mark.parametrize("K", [1, 2, 4])
def test_k_seed_steps(benchmark, K, mode):
    if mode == "batched":
        step, params = batched_step(K, 8, 1)
        tensors = list(params.values())
    else:
        step, nets = sequential_steps(K, 8, 1)
        tensors = [p for net in nets for p in net.parameters()]
    before = [t.detach().clone() for t in tensors]
    benchmark.pedantic(step, rounds=5, warmup_rounds=1)
    # the step trains every seed: each seed's slice of the stacked weights moved
    if mode == "batched":
        for k in range(K):
            assert any(not torch.equal(b[k], a[k]) for b, a in zip(before, tensors,
                                                                    strict=True))
    assert all(not torch.equal(b, a) for b, a in zip(before, tensors, strict=True))
