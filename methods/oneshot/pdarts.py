"""P-DARTS (Chen, Xie, Wu & Tian, "Progressive Differentiable Architecture Search: Bridging
the Depth Gap between Search and Evaluation", ICCV 2019; code: chenxin061/pdarts), adapted
to the NB201 cell.

P-DARTS searches in 3 stages; between stages it drops the weakest ops of every edge
(8 -> 5 -> 3 in the DARTS space) and deepens the supernet (5 -> 11 -> 17 cells); dropout on
skip_connect outputs (rates 0.0, 0.4, 0.7, decaying linearly within a stage) regularises
skip connections, and the final cell keeps at most M=2 of them. Architecture updates start
after the first 10 of the 25 epochs of each stage; alpha: Adam lr 6e-4, weight decay 1e-3.

Adaptation to NB201, where an edge has 5 ops and the harness owns one supernet of fixed
depth: the epochs are split into 3 equal stages; between stages every edge keeps its 4,
then 3 strongest ops (by softmax over the ops still active; dropped ops are no longer
computed); the depth stays the profile's N (no deepening: the NB201 skeleton has a fixed
depth); weights and alpha carry over between stages instead of being re-initialised.
Skip dropout, the 40% architecture warm-up per stage and the M=2 skip limit are as in
P-DARTS. The final cell: the argmax of every edge; if more than 2 edges pick
skip_connect, the edges with the weakest skip weight take their next-best op.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from adapters.nb201_space import NUM_EDGES, NUM_OPS
from adapters.nb201_supernet import SKIP, Weighted
from methods.oneshot._common import ARCH_DEFAULTS, ArchParameterMethod, accuracy


class Pdarts(ArchParameterMethod):
    """P-DARTS: progressive op dropping, skip dropout and at most 2 skip edges."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 75
    defaults: ClassVar[dict[str, Any]] = {
        **ARCH_DEFAULTS, "arch_lr": 6e-4, "keep": (5, 4, 3), "skip_dropout": (0.0, 0.4, 0.7),
        "warmup_fraction": 0.4, "max_skip": 2}

    def _setup(self, ctx) -> None:
        super()._setup(ctx)
        ctx.state["active"] = torch.ones(NUM_EDGES, NUM_OPS, dtype=torch.bool,
                                         device=ctx.device)
        ctx.state["stage"] = 0

    def _stage_bounds(self, ctx) -> tuple[int, int, int]:
        per = ctx.epochs / 3
        stage = min(2, int(ctx.epoch // per))
        return stage, round(stage * per), round((stage + 1) * per)

    def _weights(self, ctx, alpha: torch.Tensor) -> torch.Tensor:
        return alpha.masked_fill(~ctx.state["active"], float("-inf")).softmax(-1)

    def _epoch_begin(self, ctx) -> None:
        hp = self.hyperparameters
        stage, start, end = self._stage_bounds(ctx)
        while int(ctx.state["stage"]) < stage:  # drop the weakest ops of every edge
            ctx.state["stage"] = int(ctx.state["stage"]) + 1
            keep = hp["keep"][int(ctx.state["stage"])]
            w = self._weights(ctx, ctx.state["alpha"].detach())
            order = torch.argsort(w, dim=-1, descending=True, stable=True)
            active = torch.zeros_like(ctx.state["active"])
            active.scatter_(1, order[:, :keep], True)
            ctx.state["active"] = active
        ctx.state["skip_drop"] = hp["skip_dropout"][stage] * (
            end - ctx.epoch - 1) / max(1, end - start)
        ctx.state["arch_updates"] = ctx.epoch >= start + round(
            hp["warmup_fraction"] * (end - start))

    def _arch_weights(self, ctx) -> np.ndarray:
        return self._weights(ctx, ctx.state["alpha"].detach()).cpu().numpy()

    def _path(self, ctx, alpha) -> Weighted:
        return Weighted(self._weights(ctx, alpha), active=ctx.state["active"].tolist(),
                        skip_drop=float(ctx.state["skip_drop"]), generator=ctx.torch_gen)

    def _step(self, ctx, train, valid) -> dict:
        alpha = ctx.state["alpha"]
        stats = ctx.train_weights(self._path(ctx, alpha.detach()), train)
        if not ctx.state["arch_updates"]:
            return stats
        loss, logits = ctx.loss(self._path(ctx, alpha), valid)
        self.arch_step(ctx, loss)
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}

    def _derive(self, ctx) -> tuple[int, ...]:
        w = self._arch_weights(ctx)
        cell = [int(i) for i in w.argmax(1)]
        skips = sorted((e for e in range(NUM_EDGES) if cell[e] == SKIP),
                       key=lambda e: -w[e, SKIP])
        for e in skips[self.hyperparameters["max_skip"]:]:
            others = w[e].copy()
            others[SKIP] = -1
            cell[e] = int(others.argmax())
        return tuple(cell)
