"""Running one one-shot cell: the template around a method's hooks, and its result row.

Per epoch the harness logs the architecture distribution of every edge, the derived cell,
its skip edges, its search-metric and test accuracy from the table (looked up here, never
shown to the method), the supernet's train/valid loss and accuracy, and seconds; then it
checkpoints. The final derived cell is the incumbent: its table test accuracy is the row's
result, as in the NB201 paper's weight-sharing table.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.api import OneShotMethod
from harness.core.cell import Paused, RunEnv
from harness.core.cellbase import _get_bench, _now, provenance
from harness.core.errors import MethodError
from harness.core.guard import search_metric_only
from harness.core.seeds import generator, torch_generator
from harness.core.timelimit import method_code
from harness.oneshot.context import (
    OneShotContext,
    check_derived,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)

if TYPE_CHECKING:  # annotations only
    from harness.oneshot.cells import OneShotCell

_POOLS: dict[tuple, Any] = {}




def pools_for(cell: OneShotCell):
    """The cell's image pools (decoded once per process and dataset), cut to its size."""
    from adapters.nb201_search_data import search_pools
    from harness.core import config
    from harness.core.seeds import cell_seed_sequence

    key = (str(config.data_root()), cell.dataset, cell.experiment_seed)
    if key not in _POOLS:
        seq = cell_seed_sequence(cell.experiment_seed, "oneshot-split", cell.benchmark,
                                 cell.dataset, 0)
        _POOLS[key] = search_pools(cell.dataset, seq)
    return _POOLS[key].subset(cell.cfg.train_images, cell.cfg.valid_images)


def build_supernet(cls: type[OneShotMethod], cell: OneShotCell, num_classes: int):
    """The NB201 supernet, built on the meta device (no global RNG draw) and initialised
    from the cell's stream."""
    import torch

    from adapters.nb201_supernet import Supernet
    from harness.proxies.scoring import init_network

    with torch.device("meta"):
        net = Supernet(num_classes, cell.cfg.C, cell.cfg.N, affine=False,
                       track_running_stats=cls.track_running_stats, **cls.supernet_options)
    net = net.to_empty(device="cpu")
    init_network(net, torch_generator(cell.stream("init")))
    if cell.device.startswith("cuda"):  # the layout GPU convolutions prefer
        net = net.to(memory_format=torch.channels_last)
    return net.to(cell.device).train()


def _tensors(x: np.ndarray, y: np.ndarray, device: str):
    import torch

    return (torch.from_numpy(x).to(device, torch.get_default_dtype()),
            torch.from_numpy(y).to(device))


def _lookup(bench, ops, proto) -> dict[str, Any]:
    from adapters.nb201_space import arch_string
    from adapters.nb201_supernet import skip_edges

    idx = int(bench.space.index_of_ops(ops))
    sv = float(bench.query(np.array([idx]), proto["search_metric"], proto["search_dataset"])[0])
    tv = float(bench.query(np.array([idx]), proto["report_metric"], proto["report_dataset"])[0])
    return {"arch": idx, "cell": arch_string(ops), "skip_edges": skip_edges(ops),
            "search_value": round(sv, 4), "test_value": round(tv, 4)}


#: torch intra-op threads of a one-shot cell on the CPU. The thread count changes the order
#: of floating-point sums and hence the trained supernet, so it is fixed: the same cell gives
#: the same row on any machine and with any --jobs (which runs cells side by side instead).
CPU_THREADS = 1


def run_oneshot_cell(cls: type[OneShotMethod], cell: OneShotCell, bench, checkpoint: Path,
                     progress=None, stop_after: int | None = None,
                     deadline: float | None = None) -> dict[str, Any]:
    """Run (or resume from ``checkpoint``) one one-shot cell; return its result row. Raises
    :class:`Paused` after the epoch that ends past ``deadline`` (``time.time()``) or after
    epoch ``stop_after``."""
    import torch

    provenance()  # the commit of the code that runs, read now, not when the cell ends
    before = torch.get_num_threads()
    if not cell.device.startswith("cuda"):
        torch.set_num_threads(CPU_THREADS)
    try:
        with precision(cell):
            return _run(cls, cell, bench, checkpoint, progress, stop_after, deadline)
    finally:
        torch.set_num_threads(before)


@contextmanager
def precision(cell: OneShotCell):
    """The configuration's precision while the block runs: as torch's default dtype (every
    parameter, alpha and batch of the cell is created in it; restored afterwards), or
    ``bfloat16-autocast``: float32 tensors, convolutions and matrix products under
    ``torch.autocast`` in bfloat16 (the tolerance is pinned in
    ``tests/test_oneshot_gpu_paths.py``)."""
    import torch

    dtype = torch.get_default_dtype()
    autocast = cell.cfg.precision == "bfloat16-autocast"
    torch.set_default_dtype(torch.float32 if autocast else getattr(torch, cell.cfg.precision))
    try:
        if autocast:
            kind = "cuda" if cell.device.startswith("cuda") else "cpu"
            with torch.autocast(device_type=kind, dtype=torch.bfloat16):
                yield
        else:
            yield
    finally:
        torch.set_default_dtype(dtype)


def prepare(cls: type[OneShotMethod], cell: OneShotCell):
    """(method, context, pools, hook caller) of a fresh cell, the method's ``_setup`` done."""
    if not issubclass(cls, OneShotMethod):
        raise MethodError(f"{cell.method} is not a one-shot method")
    pools = pools_for(cell)
    cfg, B = cell.cfg, cell.cfg.batch_size
    steps = len(pools.y_train) // B
    if steps < 1:
        raise MethodError(f"{cell.method}: {len(pools.y_train)} training images make no batch "
                          f"of {B}; raise train_images or lower batch_size")
    method = cls(**cfg.hyperparameters.get(cell.method, {}))
    ctx = OneShotContext(build_supernet(cls, cell, pools.num_classes), pools, cfg, cls,
                         cell.device, method.hyperparameters, cell.epochs, steps)
    ctx.rng = generator(cell.stream("setup"))
    ctx.torch_gen = torch_generator(cell.stream("setup-torch"), cell.device)
    hook = _hooks(method, cell)
    hook("_setup", ctx)
    return method, ctx, pools, hook


def begin_epoch(ctx: OneShotContext, cell: OneShotCell, hook, epoch: int) -> None:
    """Start ``epoch``: its method streams, then the method's ``_epoch_begin`` hook."""
    ctx.epoch, ctx.step = epoch, 0
    ctx.rng = generator(cell.stream("method", epoch))
    ctx.torch_gen = torch_generator(cell.stream("method-torch", epoch), cell.device)
    hook("_epoch_begin", ctx)


def batch_maker(pools, cell: OneShotCell):
    """``make(perm, step, B, data) -> (train, valid)`` for ``cell``: on the CPU
    :func:`step_batches`; on a GPU the pools live on the device and batches are augmented
    there, channels_last (:class:`harness.oneshot.device_data.DeviceBatches`: the same
    draws, the same images)."""
    if not cell.device.startswith("cuda"):
        return lambda perm, step, B, data: step_batches(pools, perm, step, B, data,
                                                        cell.device)
    from harness.oneshot.device_data import DeviceBatches

    return DeviceBatches(pools, cell.device, channels_last=True).step


def step_batches(pools, perm: np.ndarray, step: int, B: int, data: np.random.Generator,
                 device: str):
    """(train, valid) batches of ``step``: the weights' batch from the epoch's permutation,
    the architecture batch drawn with replacement (as the reference code), both augmented."""
    idx = perm[step * B:(step + 1) * B]
    vidx = data.integers(0, len(pools.y_valid), B)
    return (_tensors(pools.augment(pools.x_train[idx], data), pools.y_train[idx], device),
            _tensors(pools.augment(pools.x_valid[vidx], data), pools.y_valid[vidx], device))


def _run(cls: type[OneShotMethod], cell: OneShotCell, bench, checkpoint: Path,
         progress, stop_after: int | None, deadline: float | None) -> dict[str, Any]:
    started = _now()
    method, ctx, pools, hook = prepare(cls, cell)
    B, steps = cell.cfg.batch_size, ctx.steps_per_epoch
    start, log, seconds = 0, [], 0.0
    make = batch_maker(pools, cell)
    if checkpoint.exists():
        start, log, seconds = load_checkpoint(checkpoint, ctx)
    for epoch in range(start, cell.epochs):
        t0 = time.perf_counter()
        begin_epoch(ctx, cell, hook, epoch)
        data = generator(cell.stream("data", epoch))
        perm = data.permutation(len(pools.y_train))
        sums: dict[str, float] = defaultdict(float)
        for step in range(steps):
            ctx.step = step
            ctx._set_lr()
            stats = hook("_step", ctx, *make(perm, step, B, data))
            add_stats(sums, stats, cell)
            if progress is not None:
                progress(cell, epoch, step, steps)
        seconds = end_epoch(ctx, cell, hook, bench, sums, time.perf_counter() - t0, seconds,
                            log, checkpoint)
        if (stop_after is not None and epoch + 1 == stop_after) or (
                deadline is not None and time.time() > deadline and epoch + 1 < cell.epochs):
            raise Paused(epoch + 1, cell.epochs)
    return finish_row(method, ctx, cell, hook, bench, pools, log, seconds, started)


def add_stats(sums: dict[str, Any], stats: Any, cell: OneShotCell) -> None:
    """Add one step's statistics (a method's ``_step`` result: numbers or 0-dim tensors) to
    the epoch's sums: read at once on the CPU, summed on the device on a GPU (float64), so
    a step never waits for the device."""
    import torch

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) or (
            isinstance(v, torch.Tensor) and v.dim() == 0)

    if not isinstance(stats, dict) or not all(number(v) for v in stats.values()):
        raise MethodError(f"{cell.method}._step must return a dict of numbers (or 0-dim "
                          f"tensors), got {stats!r}")
    on_device = cell.device.startswith("cuda")
    for k, v in stats.items():
        if on_device and isinstance(v, torch.Tensor):
            sums[k] = sums[k] + v.detach().double()
        else:
            sums[k] += float(v)


def end_epoch(ctx: OneShotContext, cell: OneShotCell, hook, bench, sums: dict[str, float],
              epoch_seconds: float, seconds: float, log: list, checkpoint: Path) -> float:
    """Log the epoch that just ended (step means, the architecture distribution, the derived
    cell looked up in the table, the method's numeric state, seconds) and checkpoint the
    cell; returns the cell's search seconds so far (``seconds`` before this epoch)."""
    from adapters.nb201_supernet import argmax_cell

    steps = ctx.steps_per_epoch
    entry: dict[str, Any] = {"epoch": ctx.epoch + 1, "lr_end": round(ctx.lr, 6)}
    entry.update({k: round(float(v) / steps, 4) for k, v in sums.items()})
    weights = hook("_arch_weights", ctx)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        entry["weights"] = np.round(w, 5).tolist()
        entry.update(_lookup(bench, argmax_cell(w), bench.protocol(cell.dataset)))
    entry.update({k: v for k, v in ctx.state.items() if isinstance(v, (int, float))})
    entry["seconds"] = round(epoch_seconds, 3)
    log.append(entry)
    save_checkpoint(checkpoint, ctx, ctx.epoch + 1, log, seconds + epoch_seconds)
    return seconds + epoch_seconds


def finish_row(method, ctx: OneShotContext, cell: OneShotCell, hook, bench, pools,
               log: list, seconds: float, started: str) -> dict[str, Any]:
    """Derive the final cell and build the cell's result row."""
    import torch

    cls, cfg, B = type(method), cell.cfg, cell.cfg.batch_size
    proto = bench.protocol(cell.dataset)
    t0 = time.perf_counter()
    ctx.rng = generator(cell.stream("derive"))
    ctx.torch_gen = torch_generator(cell.stream("derive-torch"), cell.device)
    final = check_derived(hook("_derive", ctx), cell.method)
    derive_seconds = time.perf_counter() - t0
    found = _lookup(bench, final, proto)
    result: dict[str, Any] = {
        **found, "ops": list(final), "epochs": cell.epochs, "epochs_done": len(log),
        "complete": True, "stopped": None, "log": log,  # no cap: every cell runs all epochs
        "search_seconds": round(seconds + derive_seconds, 3),
        "derive_seconds": round(derive_seconds, 3),
        "seconds_per_epoch": round(float(np.median([e["seconds"] for e in log])), 3)
        if log else None,
        "device": cell.device,
        "gpu_hours": round((seconds + derive_seconds) / 3600, 5)
        if cell.device.startswith("cuda") else None,
        "configuration": cfg.label, "configuration_text": cfg.describe(cell.epochs),
        "images": pools.describe,
    }
    if cell.ranking:
        from harness.oneshot.ranking import rank_supernet

        result["ranking"] = rank_supernet(ctx, bench, cell, method._arch_weights(ctx))
    return {
        "method": cell.method, "method_version": cls.version, "kind": cls.kind,
        "benchmark": cell.benchmark, "data_sha256": bench.content_sha256,
        "dataset": cell.dataset, "seed": cell.seed, "budget": cell.budget_key,
        "search_on": f"{proto['search_dataset']}/{proto['search_metric']}",
        "report_on": f"{proto['report_dataset']}/{proto['report_metric']}",
        "note": cfg.describe(cell.epochs) + "; " + pools.describe,
        "incumbent": found["arch"], "search_value": found["search_value"],
        "test_value": found["test_value"], "queries_used": None, "sim_seconds_used": None,
        "wall_seconds": result["search_seconds"],
        "config": {"method": method.config(), "weight_optimiser": ctx.opt, "C": cfg.C,
                   "N": cfg.N, "batch_size": B, "train_images": len(pools.y_train),
                   "valid_images": len(pools.y_valid), "epochs": cell.epochs,
                   "track_running_stats": cls.track_running_stats,
                   "threads": torch.get_num_threads()},
        "result": result, **provenance(cell.device), "started": started, "finished": _now(),
    }


# ---- execution ------------------------------------------------------------------------------
def checkpoint_folder(store_path: Path) -> Path:
    """Per-epoch checkpoints of unfinished one-shot cells live beside the store."""
    d = Path(store_path).with_suffix(".checkpoints")
    d.mkdir(parents=True, exist_ok=True)
    return d


def cell_checkpoint(cell: OneShotCell, folder: str | Path, registry=None) -> Path:
    from harness.core.registry import default_registry

    cls = (registry or default_registry()).get(cell.method)
    return checkpoint_path(Path(folder), cell, cls.version,
                           _get_bench(cell.benchmark).content_sha256)


def run_in_env(cell: OneShotCell, env: RunEnv) -> dict[str, Any]:
    """The cell protocol's ``run`` for one-shot cells: in any process, with checkpoints in
    ``env.checkpoints`` (created if missing); ``env.progress`` gets every step."""
    if not env.checkpoints:
        raise MethodError(f"{cell.label()}: no checkpoint folder given")
    folder = Path(env.checkpoints)
    folder.mkdir(parents=True, exist_ok=True)
    reg = env.methods()
    return run_oneshot_cell(reg.get(cell.method), cell, _get_bench(cell.benchmark),
                            cell_checkpoint(cell, folder, reg),
                            progress=env.progress, deadline=env.deadline)


def paused_line(cell: OneShotCell, epochs_done: int) -> str:
    return f"{cell.method} {cell.dataset} seed {cell.seed}: {epochs_done}/{cell.epochs} epochs"


def _hooks(method, cell: OneShotCell):
    """Call a method hook under the cell's time limit; an exception other than the
    harness's own becomes a one-line MethodError, so the cell fails alone."""

    def call(name: str, *args):
        where = f"{cell.method}.{name} on {cell.benchmark}/{cell.dataset} seed {cell.seed}"
        with method_code(cell.minutes, where), search_metric_only(None, None, where):
            return getattr(method, name)(*args)

    return call


def total_steps(cells: list[OneShotCell]) -> int:
    """Training steps of ``cells`` (for a progress bar)."""
    return sum(c.epochs * max(1, len(pools_for(c).y_train) // c.cfg.batch_size)
               for c in cells)
