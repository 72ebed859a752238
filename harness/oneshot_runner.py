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
from pathlib import Path
from typing import Any

import numpy as np

from harness.api import OneShotMethod
from harness.cellbase import _now, provenance
from harness.errors import HarnessError, MethodError
from harness.oneshot import (
    OneShotCell,
    OneShotContext,
    check_derived,
    load_checkpoint,
    save_checkpoint,
)
from harness.seeds import generator, torch_generator
from harness.timelimit import method_code

_POOLS: dict[tuple, Any] = {}


class Paused(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A cell stopped between epochs with its state checkpointed: the run's time box was
    reached (``deadline``), or a test asked for it (``stop_after``). Re-running resumes it
    to exactly the row an uninterrupted run gives."""

    def __init__(self, epochs_done: int, epochs: int):
        super().__init__(f"paused after {epochs_done} of {epochs} epochs")
        self.epochs_done, self.epochs = epochs_done, epochs


def pools_for(cell: OneShotCell):
    """The cell's image pools (decoded once per process and dataset), cut to its size."""
    from adapters.nb201_search_data import search_pools
    from harness import config
    from harness.seeds import cell_seed_sequence

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
    from harness.proxy import init_network

    with torch.device("meta"):
        net = Supernet(num_classes, cell.cfg.C, cell.cfg.N, affine=False,
                       track_running_stats=cls.track_running_stats, **cls.supernet_options)
    net = net.to_empty(device="cpu")
    init_network(net, torch_generator(cell.stream("init")))
    return net.to(cell.device).train()


def _tensors(x: np.ndarray, y: np.ndarray, device: str):
    import torch

    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)


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

    before = torch.get_num_threads()
    if not cell.device.startswith("cuda"):
        torch.set_num_threads(CPU_THREADS)
    try:
        return _run(cls, cell, bench, checkpoint, progress, stop_after, deadline)
    finally:
        torch.set_num_threads(before)


def _run(cls: type[OneShotMethod], cell: OneShotCell, bench, checkpoint: Path,
         progress, stop_after: int | None, deadline: float | None) -> dict[str, Any]:
    import torch

    from adapters.nb201_supernet import argmax_cell

    if not issubclass(cls, OneShotMethod):
        raise MethodError(f"{cell.method} is not a one-shot method")
    started = _now()
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
    start, log, seconds = 0, [], 0.0
    if checkpoint.exists():
        start, log, seconds = load_checkpoint(checkpoint, ctx)
    proto = bench.protocol(cell.dataset)
    stopped = None
    for epoch in range(start, cell.epochs):
        t0 = time.perf_counter()
        ctx.epoch, ctx.step = epoch, 0
        ctx.rng = generator(cell.stream("method", epoch))
        ctx.torch_gen = torch_generator(cell.stream("method-torch", epoch), cell.device)
        data = generator(cell.stream("data", epoch))
        hook("_epoch_begin", ctx)
        perm = data.permutation(len(pools.y_train))
        sums: dict[str, float] = defaultdict(float)
        for step in range(steps):
            ctx.step = step
            ctx._set_lr()
            idx = perm[step * B:(step + 1) * B]
            vidx = data.integers(0, len(pools.y_valid), B)  # with replacement, as the reference
            train = _tensors(pools.augment(pools.x_train[idx], data), pools.y_train[idx],
                             cell.device)
            valid = _tensors(pools.augment(pools.x_valid[vidx], data), pools.y_valid[vidx],
                             cell.device)
            stats = hook("_step", ctx, train, valid)
            if not isinstance(stats, dict) or not all(
                    isinstance(v, (int, float)) for v in stats.values()):
                raise MethodError(f"{cell.method}._step must return a dict of numbers, got "
                                  f"{stats!r}")
            for k, v in stats.items():
                sums[k] += float(v)
            if progress is not None:
                progress(cell, epoch, step, steps)
        entry: dict[str, Any] = {"epoch": epoch + 1, "lr_end": round(ctx.lr, 6)}
        entry.update({k: round(v / steps, 4) for k, v in sums.items()})
        weights = hook("_arch_weights", ctx)
        if weights is not None:
            w = np.asarray(weights, dtype=float)
            entry["weights"] = np.round(w, 5).tolist()
            entry.update(_lookup(bench, argmax_cell(w), proto))
        entry.update({k: v for k, v in ctx.state.items() if isinstance(v, (int, float))})
        epoch_seconds = time.perf_counter() - t0
        entry["seconds"] = round(epoch_seconds, 3)
        seconds += epoch_seconds
        log.append(entry)
        save_checkpoint(checkpoint, ctx, epoch + 1, log, seconds)
        if (stop_after is not None and epoch + 1 == stop_after) or (
                deadline is not None and time.time() > deadline and epoch + 1 < cell.epochs):
            raise Paused(epoch + 1, cell.epochs)
        if cfg.max_minutes and seconds > 60 * cfg.max_minutes and epoch + 1 < cell.epochs:
            stopped = (f"wall-clock cap of {cfg.max_minutes:g} min reached after {epoch + 1} "
                       f"of {cell.epochs} epochs")
            break
    t0 = time.perf_counter()
    ctx.rng = generator(cell.stream("derive"))
    ctx.torch_gen = torch_generator(cell.stream("derive-torch"), cell.device)
    final = check_derived(hook("_derive", ctx), cell.method)
    derive_seconds = time.perf_counter() - t0
    found = _lookup(bench, final, proto)
    result: dict[str, Any] = {
        **found, "ops": list(final), "epochs": cell.epochs, "epochs_done": len(log),
        "complete": stopped is None, "stopped": stopped, "log": log,
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
        from harness.supernet_ranking import rank_supernet

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


def _worker_init(threads: int, data_root: str | None) -> None:
    import torch

    from harness import config

    torch.set_num_threads(threads)
    if data_root:
        config.set_data_root(data_root)


def _run_in_worker(cell: OneShotCell, folder: str, deadline: float | None, first: bool
                   ) -> dict[str, Any]:
    from harness.cellbase import _get_bench
    from harness.oneshot import checkpoint_path
    from harness.registry import default_registry

    cls = default_registry().get(cell.method)
    bench = _get_bench(cell.benchmark)
    if not first and deadline is not None and time.time() > deadline:
        raise Paused(0, cell.epochs)
    ck = checkpoint_path(Path(folder), cell, cls.version, bench.content_sha256)
    return run_oneshot_cell(cls, cell, bench, ck, deadline=deadline)


def _paused_line(cell: OneShotCell, epochs_done: int) -> str:
    return f"{cell.method} {cell.dataset} seed {cell.seed}: {epochs_done}/{cell.epochs} epochs"


def _hooks(method, cell: OneShotCell):
    """Call a method hook under the cell's time limit; an exception other than the
    harness's own becomes a one-line MethodError, so the cell fails alone."""

    def call(name: str, *args):
        where = f"{cell.method}.{name} on {cell.benchmark}/{cell.dataset} seed {cell.seed}"
        with method_code(cell.minutes, where):
            return getattr(method, name)(*args)

    return call


def execute_oneshot(cells: list[OneShotCell], store, registry, finish, new_bar,
                    jobs: int = 1, minutes: float | None = None) -> list[str]:
    """Run one-shot cells (resuming any checkpointed epochs); store each row at once and
    drop its checkpoint. With ``jobs`` > 1 cells run side by side in worker processes (one
    torch thread each on the CPU, see :data:`CPU_THREADS`). With ``minutes``, no epoch
    starts after that time box: unfinished cells keep their checkpoints and the next run
    continues them (the rows do not depend on where a run stopped); every run does at least
    one epoch, so a short box still makes progress. Returns one line per cell left
    unfinished."""
    import os

    from harness import config
    from harness.cellbase import _get_bench
    from harness.oneshot import checkpoint_path

    folder = checkpoint_folder(store.path)
    deadline = time.time() + 60 * minutes if minutes else None
    paused: list[str] = []

    def done(cell: OneShotCell, run) -> None:
        try:
            row = run()
        except Paused as p:
            paused.append(_paused_line(cell, p.epochs_done))
            return
        except HarnessError as exc:
            finish(cell, None, str(exc))
            return
        finish(cell, row, None)
        cls = registry.get(cell.method)
        checkpoint_path(folder, cell, cls.version, row["data_sha256"]).unlink(missing_ok=True)

    if jobs <= 1:
        total = sum(c.epochs * max(1, len(pools_for(c).y_train) // c.cfg.batch_size)
                    for c in cells)
        bar = new_bar(total, "one-shot steps", unit="step")

        def tick(cell, epoch, step, steps):
            if bar is not None:
                bar.set_postfix_str(f"{cell.method} {cell.dataset} seed {cell.seed} epoch "
                                    f"{epoch + 1}/{cell.epochs}", refresh=False)
                bar.update(1)

        for i, c in enumerate(cells):
            cls = registry.get(c.method)
            bench = _get_bench(c.benchmark)
            ck = checkpoint_path(folder, c, cls.version, bench.content_sha256)
            if i and deadline is not None and time.time() > deadline:
                paused.append(_paused_line(c, 0))
                continue
            done(c, lambda c=c, cls=cls, bench=bench, ck=ck: run_oneshot_cell(
                cls, c, bench, ck, progress=tick, deadline=deadline))
        return paused
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    new_bar(len(cells), "one-shot cells")
    root = config.data_root()
    cuda = any(c.device.startswith("cuda") for c in cells)
    threads = max(1, (os.cpu_count() or 1) // jobs) if cuda else CPU_THREADS
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                             initializer=_worker_init,
                             initargs=(threads, str(root) if root else None)) as ex:
        futs = {ex.submit(_run_in_worker, c, str(folder), deadline, i < jobs): c
                for i, c in enumerate(cells)}
        for fut in as_completed(futs):
            done(futs[fut], fut.result)
    return paused
