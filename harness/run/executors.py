"""Executors: where units (:mod:`harness.core.cell`) run. The engine hands an executor a
stream of units and gets :class:`Outcome` objects back as units finish; it alone writes the
store, so every executor yields the same rows.

* :class:`InlineExecutor` -- in the driver's own process, one unit at a time (``--jobs 1``):
  no start-up cost, and fine-grained progress (one-shot steps).
* :class:`PoolExecutor` -- a local pool of spawned worker processes (``--jobs N``).
* :class:`harness.run.ray_executor.RayExecutor` -- Ray tasks on a local or remote cluster
  (``--executor ray [--address ADDR]``).

Threads: each unit runs with the torch intra-op threads it asks for
(:class:`~harness.core.cell.Resources`); a unit asking for a fair share gets
``cores // workers``, so N workers never oversubscribe the cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.core.cell import Paused, Resources, RunEnv
from harness.core.errors import HarnessError


@dataclass
class Outcome:
    """How a unit ended: ``value`` (its result), ``error`` (one line: it failed),
    ``paused`` ((done, total): stopped at a resume point), or ``skipped`` (never started: the
    time box ended first)."""

    unit: Any
    value: Any = None
    error: str | None = None
    paused: tuple[int, int] | None = None
    skipped: bool = False


def usable_cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_proxy_jobs(device: str = "cpu") -> int:
    """Workers of the score tables, the proxy sweep and the one-shot cells: one per usable
    core, each unit with one torch thread (one on a GPU: the device is shared)."""
    return 1 if device != "cpu" else usable_cores()


def oneshot_workers(oneshot_jobs: int | None, jobs: int, cells: int) -> int:
    """Workers the one-shot stage runs its ``cells`` on (``oneshot_jobs``, else ``jobs``; never
    more than there are cells); the engine and its ETA both count with it."""
    return max(1, min(oneshot_jobs or jobs, cells))


def threads_for(res: Resources, workers: int, cores: int | None = None) -> int:
    """Torch threads of a unit when ``workers`` units share the machine's cores."""
    share = max(1, (cores or usable_cores()) // max(1, workers))
    return share if res.threads is None else max(1, min(res.threads, share))


def call_unit(unit: Any, env: RunEnv, threads: int | None = None) -> tuple[str, Any]:
    """Run ``unit`` here; expected endings come back as data (they must cross process
    boundaries unchanged): ("ok", value), ("failed", one line), ("paused", (done, total))."""
    if threads is not None and unit.resources().torch:
        import torch

        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    try:
        return "ok", unit.run(env)
    except Paused as p:
        return "paused", (p.done, p.total)
    except HarnessError as exc:
        return "failed", str(exc)


def outcome(unit: Any, tagged: tuple[str, Any]) -> Outcome:
    tag, val = tagged
    if tag == "ok":
        return Outcome(unit, value=val)
    if tag == "paused":
        return Outcome(unit, paused=tuple(val))
    return Outcome(unit, error=str(val))


StopRule = Callable[[int], bool]


class Executor:
    """Runs units; ``map`` yields one :class:`Outcome` per unit, in finishing order."""

    #: units that run at the same time
    slots: int = 1
    #: True when units run in the driver's process (progress callbacks work)
    inline: bool = False
    name: str = "?"

    def map(self, units: Iterable[Any], env: RunEnv, stop: StopRule | None = None
            ) -> Iterator[Outcome]:
        """Run ``units``; before submitting the i-th (0-based) ask ``stop(i)``: once True,
        nothing more starts (running units finish) and the rest come back ``skipped``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (idempotent)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InlineExecutor(Executor):
    """One unit at a time in this process, with the threads each unit asks for."""

    inline, name = True, "inline"

    def map(self, units, env, stop=None):
        for i, u in enumerate(units):
            if stop is not None and stop(i):
                yield Outcome(u, skipped=True)
                continue
            yield outcome(u, call_unit(u, env, threads_for(u.resources(), 1)))


class StreamingExecutor(Executor):
    """An executor that keeps up to two units per slot in flight and yields each outcome as
    its unit finishes; subclasses say how to submit, wait for and cancel one unit."""

    def _submit(self, unit: Any, env: RunEnv) -> Any:
        raise NotImplementedError

    def _wait(self, inflight: dict[Any, Any]) -> list[tuple[Any, tuple[str, Any]]]:
        """At least one finished handle of ``inflight`` with its tagged result."""
        raise NotImplementedError

    def _cancel(self, handle: Any) -> None:
        raise NotImplementedError

    def map(self, units, env, stop=None):
        env = env.remote()  # callbacks and the registry object stay in the driver
        inflight: dict[Any, Any] = {}
        it, i, stopped = iter(units), 0, False
        try:
            while True:
                while not stopped and len(inflight) < 2 * self.slots:
                    u = next(it, None)
                    if u is None:
                        stopped = True
                        break
                    if stop is not None and stop(i):
                        stopped = True
                        yield Outcome(u, skipped=True)
                        break
                    inflight[self._submit(u, env)] = u
                    i += 1
                if not inflight:
                    break
                for handle, tagged in self._wait(inflight):
                    yield outcome(inflight.pop(handle), tagged)
            for u in it:  # after a stop: never started
                yield Outcome(u, skipped=True)
        finally:
            for handle in inflight:
                self._cancel(handle)


def _pool_init(data_root: str | None) -> None:
    from harness.core import config

    if data_root:
        config.set_data_root(data_root)


def _pool_call(unit: Any, env: RunEnv, threads: int) -> tuple[str, Any]:
    return call_unit(unit, env, threads)


class PoolExecutor(StreamingExecutor):
    """``jobs`` spawned worker processes (started on first use, reused across phases); at
    most two units in flight per worker, so a time box stops submission promptly."""

    name = "local"

    def __init__(self, jobs: int):
        self.slots = max(1, int(jobs))
        self._ex = None

    def _pool(self):
        if self._ex is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            from harness.core import config

            root = config.data_root()
            self._ex = ProcessPoolExecutor(max_workers=self.slots,
                                           mp_context=mp.get_context("spawn"),
                                           initializer=_pool_init,
                                           initargs=(str(root) if root else None,))
        return self._ex

    def _submit(self, unit, env):
        threads = threads_for(unit.resources(), self.slots)
        return self._pool().submit(_pool_call, unit, env, threads)

    def _wait(self, inflight):
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
        return [(fut, fut.result()) for fut in done]  # a harness bug surfaces here

    def _cancel(self, handle) -> None:
        handle.cancel()

    def close(self) -> None:
        if self._ex is not None:
            self._ex.shutdown(wait=True, cancel_futures=True)
            self._ex = None
