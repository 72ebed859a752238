"""Batched seeds: K one-shot cells of one method that differ only in their seed, trained in
one process as one stacked supernet (``torch.func``: ``functional_call`` over parameters
stacked along a new leading dimension, ``vmap`` over it), each cell's row the same as
running it alone.

Why: a supernet step at the NB201 sizes is a few hundred small kernels; one seed leaves a
GPU mostly idle, K seeds in one ``vmap`` fill it with the same number of kernel launches.
On a CPU the step is compute-bound and grouped kernels are slower than K separate ones
(``tests/bench/test_bench_batched.py`` measures K = 1, 2, 4), so there the harness runs
seeds side by side in processes (``--jobs``) instead.

What stays per seed: everything. Each cell builds its own supernet, alpha and optimiser
states from its own streams (:func:`harness.oneshot.runner.prepare`) and draws its own
batches; the stacked step computes each seed's loss, gradients, gradient-norm clip, SGD and
Adam updates on that seed's slice only (the optimisers are elementwise, the clip norm is
taken per seed). At every epoch end the slices are written back into the cells' own
contexts, which log, checkpoint and derive exactly as a cell run alone; the numbers equal
a lone run's up to the summation order of the batched kernels (tested in float64:
``tests/test_oneshot_batched.py``).

A method opts in with a ``_batched_step(self, bctx, trains, valids)`` hook (DARTS-V1 has
one); methods whose forward differs per seed in structure (GDAS's sampled op, single-path
methods' sampled paths) cannot be stacked this way.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.api import OneShotMethod
from harness.core.cell import Paused, Resources, RunEnv
from harness.core.cellbase import _now, provenance
from harness.core.errors import MethodError
from harness.core.seeds import generator
from harness.oneshot.cells import OneShotCell
from harness.oneshot.context import OneShotContext, load_checkpoint


def can_batch(cls: type[OneShotMethod]) -> bool:
    """Whether ``cls`` can train several seeds as one stacked supernet."""
    return callable(getattr(cls, "_batched_step", None))


def check_group(cls: type[OneShotMethod], cells: list[OneShotCell]) -> None:
    """Raise a one-line :class:`MethodError` unless ``cells`` can run batched."""
    if not can_batch(cls):
        raise MethodError(f"{cells[0].method} has no _batched_step hook, so its seeds cannot "
                          "run batched; run them side by side with --jobs instead")
    first = cells[0]
    same = [(c.method, c.benchmark, c.dataset, c.cfg, c.epochs, c.device, c.experiment_seed,
             c.ranking) for c in cells]
    if len(set(same)) != 1 or len({c.seed for c in cells}) != len(cells):
        raise MethodError(f"{first.method}: batched cells must differ only in their seed")


class BatchedContext:
    """The stacked state of K cells' contexts (``ctxs``) for the duration of an epoch:
    ``params`` and ``buffers`` ({name: (K, ...)}) of the supernets, ``alpha`` (K, 6, 5) when
    the method has one, and the optimisers over them, loaded from and written back to the
    contexts (:meth:`write_back`)."""

    def __init__(self, ctxs: list[OneShotContext]):
        import copy

        import torch

        self.ctxs, self.K = ctxs, len(ctxs)
        first = ctxs[0].supernet
        self.meta = copy.deepcopy(first).to("meta")
        self.names = [n for n, _ in first.named_parameters()]
        self.buffer_names = [n for n, _ in first.named_buffers()]
        nets = [dict(c.supernet.named_parameters()) for c in ctxs]
        bufs = [dict(c.supernet.named_buffers()) for c in ctxs]
        with torch.no_grad():
            self.params = {n: torch.stack([p[n] for p in nets]).requires_grad_(True)
                           for n in self.names}
            self.buffers = {n: torch.stack([b[n] for b in bufs]) for n in self.buffer_names}
        opt = ctxs[0].opt
        self.w_optimizer = torch.optim.SGD(
            list(self.params.values()), lr=ctxs[0].lr, momentum=opt["momentum"],
            weight_decay=opt["weight_decay"], nesterov=opt["nesterov"])
        self._stack_state(self.w_optimizer, [c.w_optimizer for c in ctxs],
                          [list(c.supernet.parameters()) for c in ctxs])
        self.alpha = None
        if "alpha" in ctxs[0].state:
            with torch.no_grad():
                self.alpha = torch.stack([c.state["alpha"] for c in ctxs]).requires_grad_(True)
            own = ctxs[0].state["arch_optimizer"]
            g = own.param_groups[0]
            self.arch_optimizer = torch.optim.Adam(
                [self.alpha], lr=g["lr"], betas=g["betas"], weight_decay=g["weight_decay"])
            self._stack_state(self.arch_optimizer, [c.state["arch_optimizer"] for c in ctxs],
                              [[c.state["alpha"]] for c in ctxs])

    @staticmethod
    def _stack_state(batched, owns, params_per_ctx) -> None:
        """Stack the per-parameter optimiser state of every context into ``batched``."""
        import torch

        for i, bp in enumerate(batched.param_groups[0]["params"]):
            states = [own.state.get(ps[i]) for own, ps in zip(owns, params_per_ctx,
                                                                strict=True)]
            if not states[0]:
                continue
            batched.state[bp] = {k: (v.clone() if k == "step" else
                                     torch.stack([s[k] for s in states]))
                                 for k, v in states[0].items()}

    def write_back(self) -> None:
        """Copy every seed's slice into its own context (supernet, optimiser states, alpha)."""
        import torch

        with torch.no_grad():
            for k, ctx in enumerate(self.ctxs):
                for n, p in ctx.supernet.named_parameters():
                    p.copy_(self.params[n][k])
                for n, b in ctx.supernet.named_buffers():
                    b.copy_(self.buffers[n][k])
                self._unstack_state(self.w_optimizer, ctx.w_optimizer,
                                    list(ctx.supernet.parameters()), k)
                if self.alpha is not None:
                    ctx.state["alpha"].copy_(self.alpha[k])
                    self._unstack_state(self.arch_optimizer, ctx.state["arch_optimizer"],
                                        [ctx.state["alpha"]], k)

    @staticmethod
    def _unstack_state(batched, own, params, k: int) -> None:
        for bp, p in zip(batched.param_groups[0]["params"], params, strict=True):
            st = batched.state.get(bp)
            if st:
                own.state[p] = {n: (v.clone() if n == "step" else v[k].clone())
                                for n, v in st.items()}

    # ---- the stacked computations ---------------------------------------------------------
    def _loss(self, params, buffers, x, y, path):
        import torch.nn.functional as F
        from torch.func import functional_call

        logits = functional_call(self.meta, (params, buffers), (x, path))
        return F.cross_entropy(logits, y), logits

    def train_weights(self, make_path, weights, batch) -> list[dict[str, float]]:
        """One SGD step of every seed's weights on its own batch (``batch``: (K, B, ...)
        images and (K, B) labels) along ``make_path(weights[k])``, each seed's gradient
        clipped by its own norm (as ``clip_grad_norm_`` alone); per-seed loss/accuracy."""
        from torch.func import grad_and_value, vmap

        def f(p, b, x, y, w):
            return self._loss(p, b, x, y, make_path(w))

        x, y = batch
        grads, (loss, logits) = vmap(grad_and_value(f, has_aux=True))(
            self.params, self.buffers, x, y, weights)
        self._clip(grads, self.ctxs[0].opt["grad_clip"])
        for n, p in self.params.items():
            p.grad = grads[n]
        self.w_optimizer.step()
        self.w_optimizer.zero_grad(set_to_none=True)
        loss, correct = loss.detach(), (logits.argmax(-1) == y).sum(-1)
        return [{"loss": loss[k].double(), "acc": correct[k].double() * 100.0 / y.shape[1]}
                for k in range(self.K)]

    def _clip(self, grads: dict, max_norm: float) -> None:
        """``torch.nn.utils.clip_grad_norm_`` per seed: the total 2-norm over a seed's
        parameters, every gradient of that seed scaled by min(1, max_norm / (norm + 1e-6))."""
        import torch

        norms = torch.stack([torch.linalg.vector_norm(g.reshape(self.K, -1), dim=1)
                             for g in grads.values()])
        total = torch.linalg.vector_norm(norms, dim=0)
        coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        for g in grads.values():
            g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))

    def arch_step(self, make_path, batch) -> list[dict[str, float]]:
        """One Adam step of every seed's alpha on its own architecture batch along
        ``make_path(alpha[k])`` (the weights held fixed); per-seed loss/accuracy."""
        from torch.func import grad_and_value, vmap

        def f(a, p, b, x, y):
            return self._loss(p, b, x, y, make_path(a))

        x, y = batch
        params = {n: p.detach() for n, p in self.params.items()}
        grad, (loss, logits) = vmap(grad_and_value(f, has_aux=True))(
            self.alpha.detach(), params, self.buffers, x, y)
        self.alpha.grad = grad
        self.arch_optimizer.step()
        self.arch_optimizer.zero_grad(set_to_none=True)
        # accuracy as methods._common.accuracy computes it for one seed
        loss, acc = loss.detach(), (logits.argmax(-1) == y).float().mean(-1).detach() * 100
        return [{"valid_loss": loss[k], "valid_acc": acc[k]} for k in range(self.K)]


def _stacked(batches: list) -> tuple[Any, Any]:
    import torch

    return torch.stack([b[0] for b in batches]), torch.stack([b[1] for b in batches])


@dataclass(frozen=True)
class SeedGroup:
    """A unit of work (:class:`harness.core.cell.Unit`): ``cells`` run batched; its value is
    their rows, in order."""

    cells: tuple[OneShotCell, ...]

    def label(self) -> str:
        c = self.cells[0]
        return (f"{c.method} on {c.benchmark}/{c.dataset} seeds "
                f"{', '.join(str(x.seed) for x in self.cells)} (batched)")

    def resources(self) -> Resources:
        return self.cells[0].resources()

    def resume_point(self) -> str:
        return self.cells[0].resume_point()

    def run(self, env: RunEnv) -> list[dict[str, Any]]:
        from harness.core.cellbase import _get_bench
        from harness.oneshot.runner import cell_checkpoint

        if not env.checkpoints:
            raise MethodError(f"{self.label()}: no checkpoint folder given")
        folder = Path(env.checkpoints)
        folder.mkdir(parents=True, exist_ok=True)
        reg = env.methods()
        c = self.cells[0]
        return run_batched(reg.get(c.method), list(self.cells), _get_bench(c.benchmark),
                           [cell_checkpoint(x, folder, reg) for x in self.cells],
                           progress=env.progress, deadline=env.deadline)


def group_seeds(cells: list[OneShotCell], k: int, registry) -> list:
    """``cells`` with the seeds of every batchable method's (benchmark, dataset,
    configuration) gathered into :class:`SeedGroup` s of up to ``k``, each where its first
    seed was; other cells (and everything when ``k`` is 1) unchanged."""
    if k <= 1:
        return list(cells)
    groups: dict[tuple, list[OneShotCell]] = {}
    out: list = []
    for c in cells:
        if not can_batch(registry.get(c.method)):
            out.append(c)
            continue
        key = (c.method, c.benchmark, c.dataset, c.cfg, c.epochs, c.device,
               c.experiment_seed, c.ranking)
        members = groups.get(key)
        if members is None or len(members) == k:
            members = groups[key] = []
            out.append(members)
        members.append(c)
    return [SeedGroup(tuple(u)) if isinstance(u, list) and len(u) > 1 else
            (u[0] if isinstance(u, list) else u) for u in out]


def run_batched(cls: type[OneShotMethod], cells: list[OneShotCell], bench,
                checkpoints: list[Path], progress=None, deadline: float | None = None
                ) -> list[dict[str, Any]]:
    """Run (or resume) ``cells`` (one method, differing only in their seed) as one stacked
    supernet; return their result rows in order. Cells whose checkpoints stopped at
    different epochs are first brought level one by one. Raises :class:`Paused` after the
    epoch that ends past ``deadline`` (``time.time()``; every cell is checkpointed)."""
    import torch

    from harness.oneshot.runner import (
        CPU_THREADS,
        add_stats,
        batch_maker,
        begin_epoch,
        end_epoch,
        finish_row,
        precision,
        prepare,
        run_oneshot_cell,
    )

    check_group(cls, cells)
    provenance()
    before = torch.get_num_threads()
    if not cells[0].device.startswith("cuda"):
        torch.set_num_threads(CPU_THREADS)
    try:
        with precision(cells[0]):
            started = _now()
            preps = [prepare(cls, c) for c in cells]
            starts, logs, seconds = [], [], []
            for (_, ctx, _, _), cp in zip(preps, checkpoints, strict=True):
                s, lg, sec = load_checkpoint(cp, ctx) if cp.exists() else (0, [], 0.0)
                starts.append(s), logs.append(lg), seconds.append(sec)
            if len(set(starts)) > 1:  # not level: finish each alone from its checkpoint
                return [run_oneshot_cell(cls, c, bench, cp, progress, deadline=deadline)
                        for c, cp in zip(cells, checkpoints, strict=True)]
            first, K = cells[0], len(cells)
            makers = [batch_maker(p[2], c) for p, c in zip(preps, cells, strict=True)]
            ctxs = [p[1] for p in preps]
            steps, B = ctxs[0].steps_per_epoch, first.cfg.batch_size
            for epoch in range(starts[0], first.epochs):
                t0 = time.perf_counter()
                for (_, ctx, _, hook), c in zip(preps, cells, strict=True):
                    begin_epoch(ctx, c, hook, epoch)
                bctx = BatchedContext(ctxs)
                datas = [generator(c.stream("data", epoch)) for c in cells]
                perms = [d.permutation(len(p[2].y_train)) for d, p in zip(datas, preps,
                                                                          strict=True)]
                sums: list[dict[str, float]] = [defaultdict(float) for _ in cells]
                for step in range(steps):
                    for ctx in ctxs:
                        ctx.step = step
                        ctx._set_lr()
                    for g in bctx.w_optimizer.param_groups:
                        g["lr"] = ctxs[0].lr
                    pairs = [m(perm, step, B, d)
                             for m, perm, d in zip(makers, perms, datas, strict=True)]
                    stats = preps[0][3]("_batched_step", bctx,
                                        _stacked([t for t, _ in pairs]),
                                        _stacked([v for _, v in pairs]))
                    for k in range(K):
                        add_stats(sums[k], stats[k], cells[k])
                    if progress is not None:
                        for c in cells:
                            progress(c, epoch, step, steps)
                bctx.write_back()
                share = (time.perf_counter() - t0) / K
                for k, ((_, ctx, _, hook), c) in enumerate(zip(preps, cells, strict=True)):
                    seconds[k] = end_epoch(ctx, c, hook, bench, sums[k], share, seconds[k],
                                           logs[k], checkpoints[k])
                if deadline is not None and time.time() > deadline and epoch + 1 < first.epochs:
                    raise Paused(epoch + 1, first.epochs)
            rows = []
            for k, ((method, ctx, pools, hook), c) in enumerate(zip(preps, cells, strict=True)):
                row = finish_row(method, ctx, c, hook, bench, pools, logs[k], seconds[k],
                                 started)
                row["config"]["batched_seeds"] = K
                rows.append(row)
            return rows
    finally:
        torch.set_num_threads(before)


__all__ = ["BatchedContext", "SeedGroup", "can_batch", "check_group", "group_seeds",
           "run_batched"]
