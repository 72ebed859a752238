"""GDAS (Dong & Yang, "Searching for A Robust Neural Architecture in Four GPU Hours",
CVPR 2019), as run on NAS-Bench-201 by the reference code (D-X-Y/AutoDL-Projects
``exps/NAS-Bench-201-algos/GDAS.py``, ``models/cell_searchs/search_model_gdas.py``, config
``configs/nas-benchmark/algos/GDAS.config``: 240 epochs).

Each forward draws Gumbel noise for every edge, takes the argmax of
softmax((log_softmax(alpha) + g) / tau) and computes only that op, with the straight-
through weight one_hot - p.detach() + p so alpha gets gradients. tau decays linearly from
10 to 0.1 over the epochs. Per step: one weight step, then one alpha step on the other
pool. The final cell is the argmax of alpha.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from adapters.nb201_supernet import Hard
from methods.oneshot._common import ARCH_DEFAULTS, ArchParameterMethod, accuracy


class Gdas(ArchParameterMethod):
    """GDAS: Gumbel-softmax with hard sampling (one op per edge per forward)."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 240
    defaults: ClassVar[dict[str, Any]] = {**ARCH_DEFAULTS, "tau_max": 10.0, "tau_min": 0.1}

    def _epoch_begin(self, ctx) -> None:
        hp = self.hyperparameters
        span = max(1, ctx.epochs - 1)
        ctx.state["tau"] = hp["tau_max"] - (hp["tau_max"] - hp["tau_min"]) * ctx.epoch / span

    def sample(self, ctx) -> Hard:
        alpha = ctx.state["alpha"]
        while True:  # redraw the (measure-zero) infinite Gumbel draws, as the reference does
            u = torch.empty_like(alpha).exponential_(generator=ctx.torch_gen)
            gumbel = -u.log()
            probs = ((alpha.log_softmax(-1) + gumbel) / ctx.state["tau"]).softmax(-1)
            if torch.isfinite(gumbel).all() and torch.isfinite(probs).all():
                break
        index = probs.argmax(-1)
        hard = torch.zeros_like(probs).scatter_(-1, index[:, None], 1.0)
        return Hard(hard - probs.detach() + probs, index.tolist())

    def _step(self, ctx, train, valid) -> dict:
        w = self.sample(ctx)
        stats = ctx.train_weights(Hard(w.weights.detach(), w.index), train)
        loss, logits = ctx.loss(self.sample(ctx), valid)
        self.arch_step(ctx, loss)
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}
