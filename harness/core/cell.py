"""The cell protocol: what the engine and every executor know about a unit of work.

Search cells, proxy-sweep chunks (a slice of an arch sample) and one-shot cells all
implement :class:`Unit`, so planning, execution, retries and storage are written once
(:mod:`harness.run`). A unit

* has a ``label()`` for progress lines and errors;
* says what it needs, ``resources()``: CPU threads (torch intra-op), GPUs, a memory
  estimate -- the local pool sets the threads per worker, Ray turns them into a request;
* ``run(env)`` returns its result (a store row, or a chunk's scores) in whatever process the
  executor chose; it never writes the results store (the driver alone does);
* is restartable: running it again after its process died continues from its resume point
  (``resume_point()`` says where: a one-shot cell from its last epoch checkpoint, a chunk
  from nothing -- its finished archs are already in the score cache, which the driver
  filled --, a search cell from scratch, since it takes seconds).

A unit that must stop before its end raises :class:`Paused` at a resume point (a time box
was reached); one that fails raises a :class:`~harness.core.errors.HarnessError` with a
one-line reason. Anything else is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Resources:
    """What one unit needs while it runs.

    ``threads``: torch intra-op threads (None: a fair share of the machine's cores, for GPU
    units whose CPU side is light); CPU units ask for exactly the threads their result was
    defined with (one: the floating-point summation order, hence the row, must not depend on
    the machine). ``gpus``: GPUs (fractions allowed by Ray). ``memory_mb``: an estimate, used
    by Ray's scheduler. ``torch``: whether the unit uses torch at all (search cells do not).
    """

    threads: int | None = 1
    gpus: float = 0.0
    memory_mb: int = 512
    torch: bool = True


@dataclass
class RunEnv:
    """What a unit gets from the executor besides itself: where one-shot checkpoints live,
    the time box (``time.time()`` after which a unit stops at its next resume point), and --
    only when the unit runs in the driver's own process -- a progress callback and the
    driver's method registry (elsewhere the installed methods' registry is used)."""

    checkpoints: str | None = None
    deadline: float | None = None
    progress: Callable[..., Any] | None = None
    registry: Any = None

    def remote(self) -> RunEnv:
        """What crosses to another process: no callback, no registry object."""
        return RunEnv(self.checkpoints, self.deadline)

    def methods(self):
        """The registry to look methods up in."""
        if self.registry is not None:
            return self.registry
        from harness.core.registry import default_registry

        return default_registry()


class Paused(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A unit stopped at a resume point with its state saved (the run's time box was
    reached, or a test asked for it). Running it again continues to exactly the result an
    uninterrupted run gives."""

    def __init__(self, done: int, total: int):
        super().__init__(f"paused after {done} of {total}")
        self.done, self.total = done, total

    @property
    def epochs_done(self) -> int:  # one-shot cells pause between epochs
        return self.done

    @property
    def epochs(self) -> int:
        return self.total


@runtime_checkable
class Unit(Protocol):
    """A unit of work any executor can run (see the module docstring)."""

    def label(self) -> str: ...

    def resources(self) -> Resources: ...

    def resume_point(self) -> str: ...

    def run(self, env: RunEnv) -> Any: ...
