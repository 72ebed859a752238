"""DrNAS (Chen, Wang, Cheng, Tang, Hsieh, "DrNAS: Dirichlet Neural Architecture Search",
ICLR 2021), NAS-Bench-201 setting of the authors' code (xiangning-chen/DrNAS
``201-space/train_search.py``, ``search_model.py``, ``architect.py``).

Edge weights are a sample of Dirichlet(ELU(alpha) + 1), drawn afresh for every forward and
differentiated through the sample (implicit reparameterisation of the Gamma variates);
the regulariser is the reference's default l2 on alpha (Adam weight decay 1e-3). Per step:
one alpha step on a batch of the other pool, then one weight step (SGD momentum 0.9
without Nesterov, weight decay 3e-4). 100 epochs. The final cell is the argmax of alpha;
the logged distribution is the Dirichlet mean.

The Gamma variates are drawn from the cell's numpy stream (torch's Dirichlet sampler cannot
take a generator), and their gradient is torch's ``_standard_gamma_grad``, the same
implicit gradient ``torch.distributions.Dirichlet.rsample`` uses.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from adapters.nb201_supernet import Weighted
from methods.oneshot._common import ArchParameterMethod, accuracy


class _Gamma(torch.autograd.Function):
    """Gamma(concentration) variates given from outside, with the implicit gradient."""

    @staticmethod
    def forward(ctx, conc: torch.Tensor, sample: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(conc, sample)
        return sample

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        conc, sample = ctx.saved_tensors
        return grad * torch._standard_gamma_grad(conc, sample), None


def dirichlet_sample(conc: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """A reparameterised Dirichlet(conc) sample per row, drawn from ``rng``."""
    g = rng.standard_gamma(conc.detach().cpu().double().numpy())
    g = torch.as_tensor(np.maximum(g, np.finfo(np.float32).tiny), dtype=conc.dtype,
                        device=conc.device)
    x = _Gamma.apply(conc, g)
    return x / x.sum(-1, keepdim=True)


class DrNas(ArchParameterMethod):
    """DrNAS: Dirichlet relaxation of the edge weights."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference
    paper_epochs = 100
    weight_optimiser = {"weight_decay": 3e-4, "nesterov": False}

    @staticmethod
    def concentration(alpha: torch.Tensor) -> torch.Tensor:
        return F.elu(alpha) + 1

    def _arch_weights(self, ctx) -> np.ndarray:
        c = self.concentration(ctx.state["alpha"].detach())
        return (c / c.sum(-1, keepdim=True)).cpu().numpy()

    def _step(self, ctx, train, valid) -> dict:
        alpha = ctx.state["alpha"]
        loss, logits = ctx.loss(Weighted(dirichlet_sample(self.concentration(alpha), ctx.rng)),
                                valid)
        self.arch_step(ctx, loss)
        w = dirichlet_sample(self.concentration(alpha.detach()), ctx.rng)
        stats = ctx.train_weights(Weighted(w), train)
        return {**stats, "valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}
