"""The passes several zero-cost proxies share: one cross-entropy forward+backward
(grad_norm, snip, fisher) and one forward with an input gradient (jacov, nwot).

A proxy that declares ``shared_pass`` registers what it needs before the pass
(``Proxy._observe``: hooks, typically) and reads its score after it (``Proxy._collect``). Run
alone, its ``_score`` runs the pass itself; the engine (:mod:`harness.proxies.engine`) runs it
once for every proxy of the group on the same network and minibatch, so the scores are equal.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F


def cross_entropy_backward(ctx, create_graph: bool = False) -> torch.Tensor:
    """Zero grads, forward the minibatch, back-propagate the mean cross-entropy; the loss.
    With ``create_graph`` the parameters' ``.grad`` keep their graph, so a proxy can
    differentiate through them (grasp's Hessian-gradient product); whoever asks for it
    clears the grads afterwards (they reference the graph)."""
    ctx.model.zero_grad(set_to_none=True)
    loss = F.cross_entropy(ctx.model(ctx.inputs), ctx.targets)
    with warnings.catch_warnings():  # the grad <-> graph cycle is broken by the caller
        warnings.filterwarnings("ignore", message=".*create_graph=True.*")
        loss.backward(create_graph=create_graph)
    return loss.detach()


def input_jacobian(ctx, create_graph: bool = False) -> torch.Tensor:
    """Forward the minibatch with gradients w.r.t. the input and back-propagate the summed
    output: per sample, the Jacobian of its summed logits w.r.t. its input, (B, 3, H, W)."""
    x = ctx.inputs.clone().requires_grad_(True)
    ctx.model.zero_grad(set_to_none=True)
    y = ctx.model(x)
    y.backward(torch.ones_like(y))
    return x.grad.detach()


PASSES = {"backward": cross_entropy_backward, "jacobian": input_jacobian}


def run_pass(name: str, ctx, create_graph: bool = False) -> Any:
    """Run the shared pass ``name`` on ``ctx``'s network and minibatch."""
    return PASSES[name](ctx, create_graph=create_graph)
