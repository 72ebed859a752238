"""One-shot cells: the harness side of differentiable and weight-sharing NAS.

A one-shot cell is (method, benchmark, dataset, seed, configuration). The harness owns what
must be identical for every method -- data pools, augmentation, batch order, the supernet
and its initialisation, the weights' optimiser and schedule, epochs (no wall-clock cap),
per-epoch checkpoints and logs, table lookups of the derived cell -- and calls the method's
three hooks (:class:`harness.api.OneShotMethod`). Every random number comes from the cell's
SeedSequence: one child stream per epoch for data order/augmentation and one for the
method, so a run resumed from an epoch checkpoint continues exactly as if never stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.api import OneShotMethod
from harness.core.cell import Resources, RunEnv
from harness.core.config import ONESHOT_LABELS
from harness.core.seeds import cell_seed_sequence, child_stream
from harness.core.timelimit import DEFAULT_CELL_MINUTES


@dataclass(frozen=True)
class OneShotConfig:
    """Size of a search: the supernet (C, N), images per pool, batch size, epochs (None: the
    method's paper epochs), inherited-weight evaluation batches, and per-method
    hyperparameter overrides. No wall-clock cap: a configuration fixes the work, so its
    numbers do not depend on the machine's speed."""

    label: str  # one of harness.core.config.ONESHOT_LABELS: shown wherever a number appears
    C: int = 16
    N: int = 5
    batch_size: int = 64
    train_images: int | None = None  # None: the whole pool
    valid_images: int | None = None
    epochs: int | None = None
    eval_batch: int = 256  # batch of inherited-weight evaluations (no gradients)
    eval_batches: int = 4  # validation batches per inherited-weight accuracy
    bn_batches: int = 2  # training batches that recalibrate BN statistics
    #: "float32", "float64" or "bfloat16-autocast": float64 makes a small cell's numbers
    #: the same on every CPU (float32 rounding differs between oneDNN's kernels per
    #: instruction set, and a short search amplifies it into a different derived cell; the
    #: smoke profile uses it); bfloat16 autocast is for GPUs (faster, less exact)
    precision: str = "float32"
    hyperparameters: dict = field(default_factory=dict, hash=False, compare=False,
                                  repr=False)

    def epochs_for(self, cls: type[OneShotMethod]) -> int:
        return int(self.epochs if self.epochs is not None else cls.paper_epochs)

    def key(self, epochs: int) -> str:
        imgs = f"{self.train_images or 'all'}+{self.valid_images or 'all'}"
        return (f"{self.label}:epochs={epochs},C={self.C},N={self.N},images={imgs},"
                f"batch={self.batch_size}"
                + (f",precision={self.precision}" if self.precision != "float32" else ""))

    def describe(self, epochs: int) -> str:
        imgs = (f"{self.train_images or 'all'} weight / {self.valid_images or 'all'} "
                "architecture images")
        what = ("the method's reference configuration" if self.label == "paper" else
                f"{self.label.upper()} configuration, not the paper's")
        return (f"{what}: C={self.C}, N={self.N}, {imgs}, batch {self.batch_size}, {epochs} epochs"
                + (f", {self.precision}" if self.precision != "float32" else ""))


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

    # ---- the cell protocol (harness.core.cell) ----
    def label(self) -> str:
        return f"{self.method} on {self.benchmark}/{self.dataset} seed {self.seed}"

    def resources(self) -> Resources:
        """One torch thread on the CPU (the row must not depend on the machine; see
        :data:`harness.oneshot.runner.CPU_THREADS`); a GPU and a fair share of the cores on
        CUDA. Memory: the image pools plus the supernet, roughly."""
        if self.device.startswith("cuda"):
            return Resources(threads=None, gpus=1.0, memory_mb=8192)
        return Resources(threads=1, memory_mb=2048)

    def resume_point(self) -> str:
        return "the end of its last finished epoch (a checkpoint per epoch)"

    def run(self, env: RunEnv) -> dict[str, Any]:
        """Run or resume the cell (checkpoints in ``env.checkpoints``); its result row.
        Raises :class:`~harness.core.cell.Paused` once ``env.deadline`` has passed, after an
        epoch."""
        from harness.oneshot.runner import run_in_env

        return run_in_env(self, env)


# ---- planning -------------------------------------------------------------------------------
_CONFIG_KEYS = {"label", "C", "N", "batch_size", "train_images", "valid_images", "epochs",
                "eval_batch", "eval_batches", "bn_batches", "precision"}
PRECISIONS = ("float32", "float64", "bfloat16-autocast")


def config_from_profile(sec: dict, where: str) -> OneShotConfig:
    """The section's ``configuration`` (ConfigError naming the bad key and the fix)."""
    from harness.core.errors import ConfigError

    try:
        return _config_from_profile(sec, where)
    except ConfigError as exc:
        raise ConfigError(f"{exc}; fix the profile (see harness/run/profiles/default.json)"
                          ) from None


def _config_from_profile(sec: dict, where: str) -> OneShotConfig:
    from harness.core.errors import ConfigError

    raw = dict(sec.get("configuration") or {})
    bad = set(raw) - _CONFIG_KEYS
    if "max_minutes" in bad:
        raise ConfigError(f"profile {where}: 'oneshot.configuration.max_minutes' is a "
                          "wall-clock cap, which no profile may hold (what a profile reports "
                          "must not depend on the machine's speed); delete it and size the "
                          "search by 'epochs', or pass '--oneshot-minutes M' to a run")
    if bad:
        raise ConfigError(f"profile {where}: unknown key(s) {sorted(bad)} in "
                          f"'oneshot.configuration'; allowed: {sorted(_CONFIG_KEYS)}")
    if raw.get("label") not in ONESHOT_LABELS:
        raise ConfigError(f"profile {where}: 'oneshot.configuration.label' must be one of "
                          f"{', '.join(ONESHOT_LABELS)} (it labels every number produced)")
    if raw.get("precision", "float32") not in PRECISIONS:
        raise ConfigError(f"profile {where}: 'oneshot.configuration.precision' must be one of "
                          f"{', '.join(PRECISIONS)}")
    for k in _CONFIG_KEYS - {"label", "precision"}:
        v = raw.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"profile {where}: 'oneshot.configuration.{k}' must be a "
                              "positive integer" + (" or null" if k in (
                                  "train_images", "valid_images", "epochs") else ""))
    hp = sec.get("hyperparameters") or {}
    if not isinstance(hp, dict) or not all(isinstance(v, dict) for v in hp.values()):
        raise ConfigError(f"profile {where}: 'oneshot.hyperparameters' must map method names "
                          "to objects of hyperparameters")
    return OneShotConfig(hyperparameters=hp, **raw)


#: keys of one entry of a profile's ``oneshot.also``
ALSO_KEYS = {"methods", "seeds", "benchmarks", "configuration"}


def also_sections(sec: dict) -> list[dict]:
    """The ``oneshot.also`` entries of a profile's one-shot section as sections of their
    own: some methods (``methods``) at another configuration (e.g. DARTS-V1 at the
    cpu-collapse size beside every method at the reduced one), with the parent's seeds,
    benchmarks, order and hyperparameters unless the entry names its own; no ranking."""
    out = []
    for sub in sec.get("also") or []:
        out.append({**{k: v for k, v in sec.items() if k not in ("also", "ranking")},
                    **{k: sub[k] for k in ("seeds", "benchmarks") if k in sub},
                    "configuration": sub.get("configuration"),
                    "methods": list(sub.get("methods") or [])})
    return out


def plan_oneshot_cells(profile: dict, methods: dict[str, type], *, benchmarks=None,
                       datasets=None, seeds=None, device: str = "cpu", warn=None,
                       require_images: bool = True) -> list[OneShotCell]:
    """One-shot cells of a profile: every one-shot method x (benchmark, dataset) x seed at
    the section's configuration, and before them the cells of each ``oneshot.also`` entry
    (its methods at its configuration: the longest cells first, so that side-by-side
    workers finish together); datasets without images here are reported once through
    ``warn`` and skipped."""
    sec = profile.get("oneshot")
    if not sec:
        return []
    where = profile.get("name", "?")
    kw = {"benchmarks": benchmarks, "datasets": datasets, "seeds": seeds, "device": device,
          "experiment_seed": profile["experiment_seed"],
          "require_images": require_images}
    cells = []
    for i, sub in enumerate(also_sections(sec)):
        cells += _section_cells(sub, config_from_profile(sub, f"{where} oneshot.also[{i}]"),
                                {n: c for n, c in methods.items() if n in sub["methods"]},
                                None, **kw)
    return cells + _section_cells(sec, config_from_profile(sec, where), methods, warn, **kw)


def _section_cells(sec: dict, cfg: OneShotConfig, methods: dict[str, type], warn, *,
                   benchmarks, datasets, seeds, device: str, experiment_seed: int,
                   require_images: bool) -> list[OneShotCell]:
    from adapters.nb201_search_data import unavailable
    from harness.core.cellbase import selected

    ranking = sec.get("ranking") or {}
    order = list(sec.get("order", []))
    cells = []
    for bname, ds in selected(sec, benchmarks, datasets):
        why = unavailable(ds) if require_images else None
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
                                         experiment_seed, ranking=rank))
    return cells
