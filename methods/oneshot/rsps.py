"""RSPS, random search with parameter sharing (Li & Talwalkar, "Random Search and
Reproducibility for Neural Architecture Search", UAI 2019), as run on NAS-Bench-201 by the
reference code (D-X-Y/AutoDL-Projects ``exps/NAS-Bench-201-algos/RANDOM-NAS.py``, config
``RANDOM.config``: 250 epochs).

Training: every step samples one op per edge uniformly (redrawing a node whose inputs are
all ``none``, as the reference's ``forward_urs``) and takes one weight step. Search: 100
uniformly sampled cells, each scored on one batch of the architecture pool with the
supernet's weights; the best is the final cell.
"""

from __future__ import annotations

from typing import Any, ClassVar

from adapters.nb201_supernet import SinglePath
from methods.oneshot._common import SinglePathMethod, all_none_node, uniform_cell


class Rsps(SinglePathMethod):
    """RSPS: uniform single-path supernet, then random search on inherited weights."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    defaults: ClassVar[dict[str, Any]] = {"select_num": 100}

    @staticmethod
    def draw(rng) -> tuple[int, ...]:
        while True:
            c = uniform_cell(rng)
            if not all_none_node(c):
                return c

    def _step(self, ctx, train, valid) -> dict:
        path = SinglePath(self.draw(ctx.rng))
        return {**ctx.train_weights(path, train), **self.valid_stats(ctx, path, valid)}

    def _derive(self, ctx) -> tuple[int, ...]:
        cands = [uniform_cell(ctx.rng) for _ in range(int(self.hyperparameters["select_num"]))]
        scores = [ctx.inherited_accuracy(c, eval_batches=1) for c in cands]
        best = max(range(len(cands)), key=lambda i: (scores[i], -i))
        return cands[best]
