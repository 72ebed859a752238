"""One-shot cells: the harness side of differentiable and weight-sharing NAS.

A one-shot cell is (method, benchmark, dataset, seed, configuration). The harness owns what
must be identical for every method -- data pools, augmentation, batch order, the supernet
and its initialisation, the weights' optimiser and schedule, epochs and the wall-clock cap,
per-epoch checkpoints and logs, table lookups of the derived cell -- and calls the method's
three hooks (:class:`harness.api.OneShotMethod`). Every random number comes from the cell's
SeedSequence: one child stream per epoch for data order/augmentation and one for the
method, so a run resumed from an epoch checkpoint continues exactly as if never stopped.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.api import OneShotMethod
from harness.errors import MethodError
from harness.seeds import cell_seed_sequence, child_stream, generator
from harness.timelimit import DEFAULT_CELL_MINUTES

#: the weights' optimiser of the NB201 reference searches (configs/nas-benchmark/algos)
WEIGHT_OPTIMISER = {"lr": 0.025, "lr_min": 0.001, "momentum": 0.9, "weight_decay": 5e-4,
                    "nesterov": True, "grad_clip": 5.0}


@dataclass(frozen=True)
class OneShotConfig:
    """Size of a search: the supernet (C, N), images per pool, batch size, epochs (None: the
    method's paper epochs), the wall-clock cap, inherited-weight evaluation batches, and
    per-method hyperparameter overrides."""

    label: str  # "paper", "reduced", "smoke": shown wherever a number appears
    C: int = 16
    N: int = 5
    batch_size: int = 64
    train_images: int | None = None  # None: the whole pool
    valid_images: int | None = None
    epochs: int | None = None
    max_minutes: float | None = None
    eval_batch: int = 256  # batch of inherited-weight evaluations (no gradients)
    eval_batches: int = 4  # validation batches per inherited-weight accuracy
    bn_batches: int = 2  # training batches that recalibrate BN statistics
    hyperparameters: dict = field(default_factory=dict, hash=False, compare=False,
                                  repr=False)

    def epochs_for(self, cls: type[OneShotMethod]) -> int:
        return int(self.epochs if self.epochs is not None else cls.paper_epochs)

    def key(self, epochs: int) -> str:
        imgs = f"{self.train_images or 'all'}+{self.valid_images or 'all'}"
        cap = f",cap={self.max_minutes:g}min" if self.max_minutes else ""
        return (f"{self.label}:epochs={epochs},C={self.C},N={self.N},images={imgs},"
                f"batch={self.batch_size}{cap}")

    def describe(self, epochs: int) -> str:
        imgs = (f"{self.train_images or 'all'} weight / {self.valid_images or 'all'} "
                "architecture images")
        what = ("the method's reference configuration" if self.label == "paper" else
                f"{self.label.upper()} configuration, not the paper's")
        return f"{what}: C={self.C}, N={self.N}, {imgs}, batch {self.batch_size}, {epochs} epochs"


@dataclass(frozen=True)
class OneShotCell:
    method: str
    benchmark: str
    dataset: str
    seed: int
    cfg: OneShotConfig
    epochs: int
    device: str
    experiment_seed: int
    ranking: int = 0  # archs of the supernet-ranking sample scored at the end (0: none)
    #: wall-clock limit of one call of a method hook (a step, the derivation ...), in
    #: minutes; not part of the key (None or 0: none)
    minutes: float | None = DEFAULT_CELL_MINUTES

    @property
    def budget_key(self) -> str:
        return self.cfg.key(self.epochs) + (f",rank={self.ranking}" if self.ranking else "")

    def key(self, method_version: str, data_sha: str) -> tuple:
        return (self.method, method_version, self.benchmark, data_sha, self.dataset,
                self.seed, self.budget_key)

    def stream(self, name: str, index: int = 0) -> np.random.SeedSequence:
        """A named child stream of the cell, e.g. ``stream("data", epoch)``."""
        return child_stream(cell_seed_sequence(self.experiment_seed, self.method,
                                               self.benchmark, self.dataset, self.seed),
                            name, index)


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
        """The weights' learning rate now (cosine from lr to lr_min over the epochs)."""
        return float(self.w_optimizer.param_groups[0]["lr"])

    def _set_lr(self) -> None:
        t = (self.epoch + self.step / self.steps_per_epoch) / self.epochs
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
            loss_sum += loss.item()
            correct += int((logits.argmax(1) == batch[1]).sum())
        torch.nn.utils.clip_grad_norm_(self.weights, self.opt["grad_clip"])
        self.w_optimizer.step()
        n = len(paths) * len(batch[1])
        return {"loss": loss_sum / len(paths), "acc": 100.0 * correct / n}

    # ---- inherited-weight evaluation ----------------------------------------------------------
    def _eval_batches(self, which: str, n: int):
        import torch

        pools, b = self._pools, self._cfg.eval_batch
        x, y = (pools.x_train, pools.y_train) if which == "train" else (pools.x_valid,
                                                                         pools.y_valid)
        for i in range(n):
            sl = slice((i * b) % max(1, len(y)), (i * b) % max(1, len(y)) + b)
            yield (torch.from_numpy(pools.normalise(x[sl])).to(self.device),
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


def checkpoint_path(folder: Path, cell: OneShotCell, version: str, data_sha: str) -> Path:
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


# ---- planning -------------------------------------------------------------------------------
_CONFIG_KEYS = {"label", "C", "N", "batch_size", "train_images", "valid_images", "epochs",
                "max_minutes", "eval_batch", "eval_batches", "bn_batches"}


def config_from_profile(sec: dict, where: str) -> OneShotConfig:
    """The section's ``configuration`` (ConfigError naming the bad key)."""
    from harness.errors import ConfigError

    raw = dict(sec.get("configuration") or {})
    bad = set(raw) - _CONFIG_KEYS
    if bad:
        raise ConfigError(f"profile {where}: unknown key(s) {sorted(bad)} in "
                          f"'oneshot.configuration'; allowed: {sorted(_CONFIG_KEYS)}")
    if raw.get("label") not in ("paper", "reduced", "smoke"):
        raise ConfigError(f"profile {where}: 'oneshot.configuration.label' must be paper, "
                          "reduced or smoke (it labels every number produced)")
    for k in _CONFIG_KEYS - {"label", "max_minutes"}:
        v = raw.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"profile {where}: 'oneshot.configuration.{k}' must be a "
                              "positive integer" + (" or null" if k in (
                                  "train_images", "valid_images", "epochs") else ""))
    m = raw.get("max_minutes")
    if m is not None and (isinstance(m, bool) or not isinstance(m, (int, float)) or m <= 0):
        raise ConfigError(f"profile {where}: 'oneshot.configuration.max_minutes' must be a "
                          "positive number of minutes or null")
    hp = sec.get("hyperparameters") or {}
    if not isinstance(hp, dict) or not all(isinstance(v, dict) for v in hp.values()):
        raise ConfigError(f"profile {where}: 'oneshot.hyperparameters' must map method names "
                          "to objects of hyperparameters")
    return OneShotConfig(hyperparameters=hp, **raw)


def plan_oneshot_cells(profile: dict, methods: dict[str, type], *, benchmarks=None,
                       datasets=None, seeds=None, device: str = "cpu", warn=None
                       ) -> list[OneShotCell]:
    """One-shot cells of a profile: every one-shot method x (benchmark, dataset) x seed;
    datasets without images here are reported once through ``warn`` and skipped."""
    from adapters.nb201_search_data import unavailable
    from harness.cellbase import selected

    sec = profile.get("oneshot")
    if not sec:
        return []
    cfg = config_from_profile(sec, profile.get("name", "?"))
    ranking = sec.get("ranking") or {}
    order = list(sec.get("order", []))
    cells = []
    for bname, ds in selected(sec, benchmarks, datasets):
        why = unavailable(ds)
        ours = {n: c for n, c in methods.items() if issubclass(c, OneShotMethod)
                and (c.benchmarks is None or bname in c.benchmarks)}
        if why:
            if warn is not None and ours:
                warn(f"not run ({len(ours)} one-shot methods on {bname}/{ds}): {why}")
            continue
        # seed 0 of every method first, so a time-boxed run covers every method early;
        # within a seed the profile's 'order' (e.g. the cells the figures need), then names
        names = sorted(ours, key=lambda n: (order.index(n) if n in order else len(order), n))
        for s in range(seeds if seeds is not None else sec.get("seeds", 1)):
            for name in names:
                cls = ours[name]
                rank = int(ranking.get("archs", 0)) if name in ranking.get("methods", []) \
                    else 0
                cells.append(OneShotCell(name, bname, ds, s, cfg, cfg.epochs_for(cls), device,
                                         profile["experiment_seed"], ranking=rank))
    return cells
