"""Pieces shared by the one-shot methods: architecture parameters with the NB201 reference
optimiser, uniform single-path sampling, and the evolutionary search on inherited weights."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from adapters.nb201_space import NUM_EDGES, NUM_OPS
from adapters.nb201_supernet import NONE, SinglePath, argmax_cell
from harness.api import OneShotMethod

#: the architecture optimiser of the NB201 reference searches (DARTS, GDAS, DrNAS):
#: Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3; alpha initialised as 1e-3 * N(0, 1)
ARCH_DEFAULTS = {"arch_lr": 3e-4, "arch_betas": (0.5, 0.999), "arch_weight_decay": 1e-3,
                 "alpha_init": 1e-3}


class ArchParameterMethod(OneShotMethod):
    """A relaxation with one logit per (edge, op): ``ctx.state['alpha']`` and its Adam
    optimiser ``ctx.state['arch_optimizer']``; the final cell is the argmax of every edge
    (``none`` included, as the NB201 reference derives)."""

    defaults: ClassVar[dict[str, Any]] = ARCH_DEFAULTS

    def __init__(self, **hyperparameters: Any) -> None:
        super().__init__(**{**self.defaults, **hyperparameters})

    def _setup(self, ctx) -> None:
        hp = self.hyperparameters
        alpha = hp["alpha_init"] * torch.randn(NUM_EDGES, NUM_OPS, generator=ctx.torch_gen,
                                               device=ctx.device)
        alpha.requires_grad_(True)
        ctx.state["alpha"] = alpha
        ctx.state["arch_optimizer"] = torch.optim.Adam(
            [alpha], lr=hp["arch_lr"], betas=tuple(hp["arch_betas"]),
            weight_decay=hp["arch_weight_decay"])

    def _arch_weights(self, ctx) -> np.ndarray:
        return ctx.state["alpha"].detach().softmax(-1).cpu().numpy()

    def _derive(self, ctx) -> tuple[int, ...]:
        return argmax_cell(self._arch_weights(ctx))

    def arch_step(self, ctx, loss: torch.Tensor) -> None:
        """Back-propagate ``loss`` into alpha only and take one Adam step."""
        alpha, opt = ctx.state["alpha"], ctx.state["arch_optimizer"]
        opt.zero_grad(set_to_none=True)
        (grad,) = torch.autograd.grad(loss, [alpha])
        alpha.grad = grad
        opt.step()


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Top-1 accuracy (%) as a 0-dim tensor: reading it would wait for the device, so the
    harness reads step statistics once per epoch on a GPU (at once on the CPU)."""
    return (logits.argmax(1) == y).float().mean().detach() * 100


def uniform_cell(rng: np.random.Generator) -> tuple[int, ...]:
    """One op per edge, uniformly (SPOS/RSPS single-path sampling)."""
    return tuple(int(o) for o in rng.integers(0, NUM_OPS, NUM_EDGES))


class SinglePathMethod(OneShotMethod):
    """Weight-sharing supernets trained one path at a time (no architecture parameters);
    the final cell comes from a search on inherited weights."""

    defaults: ClassVar[dict[str, Any]] = {}
    paper_epochs = 250

    def __init__(self, **hyperparameters: Any) -> None:
        super().__init__(**{**self.defaults, **hyperparameters})

    def _setup(self, ctx) -> None:
        pass

    def valid_stats(self, ctx, path, valid) -> dict[str, float]:
        """Loss/accuracy of the sampled path on the architecture batch (no gradient)."""
        with torch.no_grad():
            loss, logits = ctx.loss(path, valid)
        return {"valid_loss": loss.detach(), "valid_acc": accuracy(logits, valid[1])}


def evolve(ctx, population: int, generations: int, parents: int, mutations: int,
           crossovers: int, mutation_prob: float) -> tuple[int, ...]:
    """SPOS's evolutionary search (Guo et al., ECCV 2020): a random population, then per
    generation the top ``parents`` breed ``mutations`` mutants (each edge re-drawn with
    ``mutation_prob``) and ``crossovers`` uniform crossovers; fitness is the inherited-weight
    accuracy on the architecture pool (``ctx.inherited_accuracy``), each cell scored once."""
    rng = ctx.rng
    fitness: dict[tuple[int, ...], float] = {}

    def score(c: tuple[int, ...]) -> float:
        if c not in fitness:
            fitness[c] = ctx.inherited_accuracy(c)
        return fitness[c]

    pop = [uniform_cell(rng) for _ in range(population)]
    for _ in range(generations):
        for c in pop:
            score(c)
        top = sorted(set(pop), key=lambda c: (-fitness[c], c))[:parents]
        children = []
        for _ in range(mutations):
            p = top[int(rng.integers(len(top)))]
            children.append(tuple(int(rng.integers(NUM_OPS)) if rng.random() < mutation_prob
                                  else o for o in p))
        for _ in range(crossovers):
            a, b = top[int(rng.integers(len(top)))], top[int(rng.integers(len(top)))]
            children.append(tuple(x if rng.random() < 0.5 else y
                                  for x, y in zip(a, b, strict=True)))
        pop = top + children
    for c in pop:
        score(c)
    return max(fitness, key=lambda c: (fitness[c], tuple(-o for o in c)))


def all_none_node(ops: tuple[int, ...]) -> bool:
    """True if some node's every input edge is ``none`` (edges in NB201 string order)."""
    return any(all(ops[e] == NONE for e in node) for node in ((0,), (1, 2), (3, 4, 5)))


__all__ = ["ArchParameterMethod", "SinglePath", "SinglePathMethod", "accuracy", "evolve",
           "uniform_cell", "all_none_node"]
