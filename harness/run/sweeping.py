"""The proxy sweep's driver: chunks of arch samples scored on an executor, each finished
chunk's scores cached at once by this process (used by the run engine for the proxy cells
and by :mod:`harness.run.score_tables` for whole-space score tables)."""

from __future__ import annotations

import time

from harness.core.cell import RunEnv
from harness.proxies.cells import ProxyCell
from harness.run.executors import Executor, InlineExecutor, PoolExecutor


def sweep(cells: list[ProxyCell], bench_of, registry, cache, *, deadline: float | None = None,
          bar=None, jobs: int = 1, executor: Executor | None = None, chunk: int | None = None,
          orders: dict | None = None):
    """Score every arch of the proxy cells' samples with every proxy they need, chunk by
    chunk on ``executor`` (default: this process, or a pool of ``jobs`` workers), until done
    or until ``deadline`` (``time.monotonic()``); the driver caches every finished chunk's
    scores at once, so a killed or time-boxed sweep resumes where it stopped. Scores do not
    depend on the executor or the chunking (each arch's are independent of the others).
    Returns a :class:`~harness.proxies.sweep.SweepReport`."""
    from harness.proxies.sweep import CHUNK_ARCHS, Sweep, set_proxy_threads

    sw = Sweep(cells, bench_of, registry, cache, chunk or CHUNK_ARCHS, orders)
    if bar is not None:  # archs scored by earlier runs count as done, not in the rate
        bar.reset(total=sw.total)
        bar.n = bar.initial = sw.start_done = sw.total - sw.todo()
    set_proxy_threads()
    owned = None
    if executor is None:
        n = max(1, min(jobs, sw.todo() // 2))  # a worker costs a few seconds to start
        executor = owned = PoolExecutor(n) if n > 1 else InlineExecutor()
    stopped = False

    def stop(i: int) -> bool:  # the first chunk always runs: every run makes progress
        nonlocal stopped
        stopped = stopped or (i > 0 and deadline is not None and time.monotonic() > deadline)
        return stopped

    try:
        for out in executor.map(sw.chunks(bar), RunEnv(registry=registry), stop):
            if out.value is not None:
                sw.absorb(out.unit, out.value, bar)
            elif out.error is not None:
                sw.fail(out.unit, out.error)
    finally:
        if owned is not None:
            owned.close()
    return sw.report(stopped, executor.slots)
