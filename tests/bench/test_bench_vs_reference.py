"""One search step of ours beside the NB201 authors' own code (``xautodl``), same batch
size, same size, same run: DARTS-V1, GDAS and a single-path step at the default profile's
reduced size and the paper size (``python tests/bench/oneshot_vs_reference.py`` measures
the same steps interleaved and prints the ratio)."""

from __future__ import annotations

import pytest
import torch

from tests.bench.oneshot_vs_reference import REFERENCE_KIND, SIZES, our_step, reference_step


@pytest.mark.parametrize("side", ["ours", "reference"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", REFERENCE_KIND)
def test_search_step(benchmark, name, size, side):
    step, net = (our_step if side == "ours" else reference_step)(name, *SIZES[size])
    before = [p.detach().clone() for p in net.parameters()]
    benchmark.pedantic(step, rounds=3 if size == "paper" else 10, warmup_rounds=1)
    # a step trains: the weights moved, and stayed finite
    after = list(net.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
    assert all(torch.isfinite(a).all() for a in after)
