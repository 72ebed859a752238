"""DARTS- (Chu, Wang, Zhang, Zhang, Wei & Yan, "DARTS-: Robustly Stepping out of Performance
Collapse Without Indicators", ICLR 2021; code: Meituan-AutoML/DARTS-, which has no NB201
search script -- the reference file's NB201 numbers come from the paper).

DARTS-V1 with an auxiliary skip connection on every edge, outside the softmax:
edge(x) = sum_k softmax(alpha)_k op_k(x) + beta * x, with beta decaying linearly from 1 to
0 over the epochs (beta = 1 - epoch / epochs, the paper's linear schedule; the code's
default is a cosine decay). The auxiliary skip absorbs the "unfair advantage" of
skip_connect, so alpha need not collapse onto it. 50 epochs (as DARTS on NB201).
"""

from __future__ import annotations

from adapters.nb201_supernet import Weighted
from methods.oneshot._common import accuracy
from methods.oneshot.darts_v1 import DartsV1


class DartsMinus(DartsV1):
    """DARTS-: DARTS-V1 plus an auxiliary skip connection whose weight decays to 0."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference

    def _epoch_begin(self, ctx) -> None:
        ctx.state["aux_skip_beta"] = 1.0 - ctx.epoch / ctx.epochs

    def _step(self, ctx, train, valid) -> dict:
        alpha, beta = ctx.state["alpha"], float(ctx.state["aux_skip_beta"])
        stats = ctx.train_weights(Weighted(alpha.detach().softmax(-1), aux_skip=beta), train)
        loss, logits = ctx.loss(Weighted(alpha.softmax(-1), aux_skip=beta), valid)
        self.arch_step(ctx, loss)
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}
