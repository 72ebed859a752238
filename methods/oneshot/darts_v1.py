"""DARTS, first order (Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search",
ICLR 2019), as run on NAS-Bench-201 by its authors' reference code
(D-X-Y/AutoDL-Projects ``exps/NAS-Bench-201-algos/DARTS-V1.py``, config
``configs/nas-benchmark/algos/DARTS.config``).

Per step: one SGD step of the supernet weights on a training batch with the softmax of
alpha as edge weights, then one Adam step of alpha on a batch of the other pool (the
first-order approximation: the weights are treated as constants). 50 epochs; the final
cell is the argmax of every edge's softmax, ``none`` included.
"""

from __future__ import annotations

from adapters.nb201_supernet import Weighted
from methods.oneshot._common import ArchParameterMethod, accuracy


class DartsV1(ArchParameterMethod):
    """DARTS first order: softmax relaxation, alternating weight / alpha steps."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 50

    def _step(self, ctx, train, valid) -> dict:
        alpha = ctx.state["alpha"]
        stats = ctx.train_weights(Weighted(alpha.detach().softmax(-1)), train)
        loss, logits = ctx.loss(Weighted(alpha.softmax(-1)), valid)
        self.arch_step(ctx, loss)
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}

    def _batched_step(self, bctx, train, valid) -> list[dict]:
        """The same step for K seeds at once (:mod:`harness.oneshot.batched`)."""
        stats = bctx.train_weights(Weighted, bctx.alpha.detach().softmax(-1), train)
        arch = bctx.arch_step(lambda a: Weighted(a.softmax(-1)), valid)
        return [{**s, **a} for s, a in zip(stats, arch, strict=True)]
