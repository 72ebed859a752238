"""What a one-shot method's hooks work with: :class:`OneShotContext` (the supernet, the
weights' optimiser and schedule, inherited-weight evaluation), and the cell's per-epoch
checkpoints (written atomically; a resumed cell continues exactly where it stopped).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.core.errors import MethodError
from harness.core.seeds import generator

if TYPE_CHECKING:  # annotations only
    from harness.oneshot.cells import OneShotConfig

#: the weights' optimiser of the NB201 reference searches (configs/nas-benchmark/algos)
WEIGHT_OPTIMISER = {"lr": 0.025, "lr_min": 0.001, "momentum": 0.9, "weight_decay": 5e-4,
                    "nesterov": True, "grad_clip": 5.0}


class OneShotContext:
    """What a one-shot method's hooks receive. Never holds the benchmark table."""

    def __init__(self, supernet, pools, cfg: OneShotConfig, method_cls, device: str,
                 hyperparameters: dict, epochs: int, steps_per_epoch: int):
        import torch

        self.supernet = supernet
        self.device = device
        self.num_classes = pools.num_classes
        self.hp = hyperparameters
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.epoch, self.step = 0, 0
        self.state: dict[str, Any] = {}
        self.rng: np.random.Generator = generator(np.random.SeedSequence(0))
        self.torch_gen = None
        self._pools, self._cfg = pools, cfg
        self.opt = {**WEIGHT_OPTIMISER, **method_cls.weight_optimiser}
        self.weights = list(supernet.parameters())
        self.w_optimizer = torch.optim.SGD(
            self.weights, lr=self.opt["lr"], momentum=self.opt["momentum"],
            weight_decay=self.opt["weight_decay"], nesterov=self.opt["nesterov"])

    # ---- the weights ------------------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The weights' learning rate now (cosine by epoch from lr towards lr_min)."""
        return float(self.w_optimizer.param_groups[0]["lr"])

    def _set_lr(self) -> None:
        """Cosine annealing by epoch, as the reference's ``CosineAnnealingLR``
        (``xautodl.procedures.optimizers``): constant within an epoch, ``lr`` at epoch 0,
        ``lr_min + (lr - lr_min)(1 + cos(pi e / E)) / 2`` at epoch e of E."""
        t = self.epoch / self.epochs
        lr = self.opt["lr_min"] + (self.opt["lr"] - self.opt["lr_min"]) * (
            1 + math.cos(math.pi * t)) / 2
        for g in self.w_optimizer.param_groups:
            g["lr"] = lr

    def loss(self, path, batch) -> tuple[Any, Any]:
        """(cross-entropy loss, logits) of the supernet along ``path`` on ``batch``."""
        import torch.nn.functional as F

        x, y = batch
        logits = self.supernet(x, path)
        return F.cross_entropy(logits, y), logits

    def train_weights(self, paths, batch) -> dict[str, float]:
        """One SGD step of the supernet weights: the gradients of every path in ``paths``
        (one path, or several accumulated as FairNAS does) on ``batch``, clipped."""
        import torch

        paths = paths if isinstance(paths, (list, tuple)) else [paths]
        self.w_optimizer.zero_grad(set_to_none=True)
        loss_sum, correct = 0.0, 0
        for p in paths:
            loss, logits = self.loss(p, batch)
            loss.backward()
            # tensors, not .item(): no wait for the device per step (float64 sums: the
            # same numbers as Python floats)
            loss_sum = loss_sum + loss.detach().double()
            correct = correct + (logits.argmax(1) == batch[1]).sum()
        torch.nn.utils.clip_grad_norm_(self.weights, self.opt["grad_clip"])
        self.w_optimizer.step()
        n = len(paths) * len(batch[1])
        return {"loss": loss_sum / len(paths), "acc": correct.double() * 100.0 / n}

    # ---- inherited-weight evaluation ----------------------------------------------------------
    def _eval_batches(self, which: str, n: int):
        import torch

        pools, b = self._pools, self._cfg.eval_batch
        x, y = (pools.x_train, pools.y_train) if which == "train" else (pools.x_valid,
                                                                         pools.y_valid)
        for i in range(n):
            sl = slice((i * b) % max(1, len(y)), (i * b) % max(1, len(y)) + b)
            yield (torch.from_numpy(pools.normalise(x[sl])).to(self.device,
                                                               torch.get_default_dtype()),
                   torch.from_numpy(y[sl]).to(self.device))

    def inherited_accuracy(self, ops, eval_batches: int | None = None) -> float:
        """Accuracy (%) of the cell ``ops`` with the supernet's weights on fixed batches of
        the architecture pool, after recalibrating every BN layer that tracks running
        statistics on fixed training batches (as the weight-sharing literature does)."""
        import torch

        from adapters.nb201_supernet import SinglePath

        net, path = self.supernet, SinglePath(tuple(int(o) for o in ops))
        bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)
               and m.track_running_stats]
        with torch.no_grad():
            for m in bns:
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the recalibration batches
            net.train()
            for x, _ in self._eval_batches("train", self._cfg.bn_batches):
                net(x, path)
            net.eval()
            correct = total = 0
            for x, y in self._eval_batches("valid", eval_batches or self._cfg.eval_batches):
                correct += int((net(x, path).argmax(1) == y).sum())
                total += len(y)
            net.train()
            for m in bns:
                m.momentum = 0.1
        return 100.0 * correct / max(1, total)


# ---- checkpoints ----------------------------------------------------------------------------
def _state_of(name: str, obj: Any) -> Any:
    import torch

    if hasattr(obj, "state_dict"):
        return obj.state_dict()
    if isinstance(obj, (torch.Tensor, int, float, str, bool)) or obj is None:
        return obj
    raise MethodError(f"ctx.state[{name!r}] is a {type(obj).__name__}; a method keeps only "
                      "tensors, modules, optimisers and numbers there (they are checkpointed)")


def save_checkpoint(path: Path, ctx: OneShotContext, epoch: int, log: list, seconds: float
                    ) -> None:
    """Everything needed to continue after ``epoch`` epochs, written atomically."""
    import torch

    data = {"epoch": epoch, "log": log, "seconds": seconds,
            "supernet": ctx.supernet.state_dict(), "w_optimizer": ctx.w_optimizer.state_dict(),
            "state": {k: _state_of(k, v) for k, v in ctx.state.items()}}
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    torch.save(data, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, ctx: OneShotContext) -> tuple[int, list, float]:
    """Restore ``ctx`` (after the method's ``_setup``); (epochs done, log, seconds)."""
    import torch

    data = torch.load(path, map_location=ctx.device, weights_only=True)
    ctx.supernet.load_state_dict(data["supernet"])
    ctx.w_optimizer.load_state_dict(data["w_optimizer"])
    for k, v in data["state"].items():
        cur = ctx.state.get(k)
        if hasattr(cur, "load_state_dict"):
            cur.load_state_dict(v)
        elif hasattr(cur, "data") and hasattr(v, "data"):
            with torch.no_grad():
                cur.data.copy_(v)
        else:
            ctx.state[k] = v
    return int(data["epoch"]), list(data["log"]), float(data["seconds"])


def checkpoint_path(folder: Path, cell, version: str, data_sha: str) -> Path:
    """The checkpoint file of ``cell`` (a :class:`~harness.oneshot.cells.OneShotCell`)."""
    import hashlib

    digest = hashlib.sha256(repr(cell.key(version, data_sha)).encode()).hexdigest()[:20]
    return folder / f"{cell.method}-{cell.dataset}-s{cell.seed}-{digest}.pt"


def check_derived(ops, method: str) -> tuple[int, ...]:
    from adapters.nb201_space import NUM_EDGES, NUM_OPS

    try:
        out = tuple(int(o) for o in ops)
    except (TypeError, ValueError):
        out = ()
    if len(out) != NUM_EDGES or any(not 0 <= o < NUM_OPS for o in out):
        raise MethodError(f"{method} derived {ops!r}; a cell is {NUM_EDGES} op indices in "
                          f"0..{NUM_OPS - 1}")
    return out


def now_seconds() -> float:
    return time.perf_counter()
