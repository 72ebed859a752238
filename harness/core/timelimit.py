"""A wall-clock limit on one cell: a method that loops forever must not hang the run.

On POSIX the limit is a SIGALRM timer in the process running the cell (the main thread of
the harness or of a pool worker): when it fires, :class:`CellTimeout` is raised inside the
method's Python code, the cell is recorded as failed and the run goes on. Code that never
returns to the interpreter (a C extension spinning) is not interrupted; elsewhere (no
SIGALRM, or not the main thread) cells run without a limit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from harness.core.errors import HarnessError, MethodError

#: default wall-clock limit of one search cell, in minutes (search cells take milliseconds
#: to seconds; 0 or None: no limit). ``run --cell-minutes M`` overrides it.
DEFAULT_CELL_MINUTES = 10.0


class CellTimeout(MethodError):
    """A cell ran past its wall-clock limit."""


class _Expired(BaseException):
    """Raised by the timer inside the method: a BaseException, so a method that catches
    ``Exception`` cannot swallow it; turned into :class:`CellTimeout` at the cell boundary."""


@contextlib.contextmanager
def time_limit(minutes: float | None, what: str) -> Iterator[None]:
    """Raise :class:`CellTimeout` in the block once ``minutes`` of wall time have passed."""
    usable = (minutes and minutes > 0 and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def fire(_sig, _frame):
        raise _Expired

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, 60.0 * minutes)
    try:
        yield
    except _Expired:
        raise CellTimeout(f"{what} exceeded its time limit of {minutes:g} min and was "
                          "stopped; raise it with --cell-minutes M (0: no limit)") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _user_interrupts() -> Iterator[list[bool]]:
    """Tell a Ctrl-C of the user (SIGINT: it must stop the run) from a KeyboardInterrupt that
    the method's code raised itself (it must fail the cell only)."""
    seen = [False]
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def on_sigint(_sig, _frame):
        seen[0] = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def method_code(minutes: float | None, where: str,
                passthrough: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """A method's own code (a search, a one-shot hook) run by the harness: under the cell's
    time limit, and any exception but the harness's own -- ``SystemExit`` and a
    ``KeyboardInterrupt`` the code raised itself included -- becomes a one-line
    :class:`~harness.core.errors.MethodError` naming ``where``, so the cell fails alone and
    the run goes on. A Ctrl-C of the user still stops the run. Exceptions of the types in
    ``passthrough`` (e.g. numerical failures a proxy records as NaN) propagate unchanged."""
    with time_limit(minutes, where), _user_interrupts() as user:
        try:
            yield
        except (HarnessError, *passthrough):
            raise
        except KeyboardInterrupt:
            if user[0]:
                raise
            raise MethodError(f"{where} raised KeyboardInterrupt itself") from None
        except SystemExit as exc:
            raise MethodError(f"{where} called sys.exit({exc.code!r}); a method must return "
                              "or raise, never end the process") from None
        except Exception as exc:
            raise MethodError(f"{where} raised {type(exc).__name__}: {exc}") from None
