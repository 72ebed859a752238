"""SPOS, single-path one-shot (Guo et al., "Single Path One-Shot Neural Architecture Search
with Uniform Sampling", ECCV 2020), on the NAS-Bench-201 supernet.

Training: every step samples one op per edge uniformly and takes one weight step; the
cell ops' BN tracks running statistics, recalibrated per evaluated cell. Search: SPOS's
evolutionary algorithm on inherited weights (population 50, 20 generations, top 10 parents,
25 mutations with probability 0.1 per edge and 25 crossovers per generation). The SPOS
authors published no NB201 code; the training length follows NB201's uniform-sampling
reference (RSPS, 250 epochs).
"""

from __future__ import annotations

from typing import Any, ClassVar

from adapters.nb201_supernet import SinglePath
from methods.oneshot._common import SinglePathMethod, evolve, uniform_cell

EVOLUTION = {"population": 50, "generations": 20, "parents": 10, "mutations": 25,
             "crossovers": 25, "mutation_prob": 0.1}


class Spos(SinglePathMethod):
    """SPOS: uniform single-path supernet, then evolution on inherited weights."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    track_running_stats = True
    defaults: ClassVar[dict[str, Any]] = EVOLUTION

    def _step(self, ctx, train, valid) -> dict:
        path = SinglePath(uniform_cell(ctx.rng))
        return {**ctx.train_weights(path, train), **self.valid_stats(ctx, path, valid)}

    def _derive(self, ctx) -> tuple[int, ...]:
        return evolve(ctx, **{k: self.hyperparameters[k] for k in EVOLUTION})
