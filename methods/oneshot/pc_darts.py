"""PC-DARTS (Xu, Xie, Zhang, Chen, Qi, Tian & Xiong, "PC-DARTS: Partial Channel Connections
for Memory-Efficient Architecture Search", ICLR 2020; code: yuhuixu1993/PC-DARTS, which has
no NB201 script -- the reference file's NB201 numbers were run by the DrNAS authors).

Partial channels: every edge's ops see 1/K of the channels (K=4), the rest bypass the edge,
then the channels are shuffled. Edge normalisation: node j sums its incoming edges
weighted by softmax(beta_j) over those edges, which stabilises the choice that partial
channels make noisy. alpha and beta: Adam lr 6e-4, weight decay 1e-3 (PC-DARTS's
settings); no architecture updates in the first 30% of the epochs (15 of 50 on CIFAR-10).
First order. NB201 keeps every edge, so the final cell is the argmax of alpha per edge.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from adapters.nb201_space import NUM_EDGES
from adapters.nb201_supernet import Weighted
from methods.oneshot._common import ARCH_DEFAULTS, ArchParameterMethod, accuracy

#: the incoming edges of nodes 1, 2, 3 (edges in NB201 string order)
NODES = ((0,), (1, 2), (3, 4, 5))


def edge_scale(beta: torch.Tensor) -> torch.Tensor:
    """softmax(beta) over each node's incoming edges, as one factor per edge."""
    return torch.cat([beta[list(n)].softmax(0) for n in NODES])


class PcDarts(ArchParameterMethod):
    """PC-DARTS: partial channel connections and edge normalisation."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 50
    supernet_options = {"partial_channels": 4}
    defaults: ClassVar[dict[str, Any]] = {**ARCH_DEFAULTS, "arch_lr": 6e-4,
                                          "warmup_fraction": 0.3}

    def _setup(self, ctx) -> None:
        super()._setup(ctx)
        hp = self.hyperparameters
        beta = (hp["alpha_init"] * torch.randn(NUM_EDGES, generator=ctx.torch_gen,
                                               device=ctx.device)).requires_grad_(True)
        ctx.state["beta"] = beta
        ctx.state["arch_optimizer"] = torch.optim.Adam(
            [ctx.state["alpha"], beta], lr=hp["arch_lr"], betas=tuple(hp["arch_betas"]),
            weight_decay=hp["arch_weight_decay"])

    def path(self, ctx, grad: bool) -> Weighted:
        a, b = ctx.state["alpha"], ctx.state["beta"]
        if not grad:
            a, b = a.detach(), b.detach()
        return Weighted(a.softmax(-1), edge_scale=edge_scale(b))

    def _step(self, ctx, train, valid) -> dict:
        stats = ctx.train_weights(self.path(ctx, grad=False), train)
        if ctx.epoch < round(self.hyperparameters["warmup_fraction"] * ctx.epochs):
            return stats
        loss, logits = ctx.loss(self.path(ctx, grad=True), valid)
        opt = ctx.state["arch_optimizer"]
        opt.zero_grad(set_to_none=True)
        ga, gb = torch.autograd.grad(loss, [ctx.state["alpha"], ctx.state["beta"]])
        ctx.state["alpha"].grad, ctx.state["beta"].grad = ga, gb
        opt.step()
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}
