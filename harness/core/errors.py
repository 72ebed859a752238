"""One exception hierarchy for everything the harness can report to a user.

Every message says *what* is wrong, *why*, and *how to fix it*, in one line. The CLI
catches :class:`HarnessError` and prints that line with exit status 2, never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class HarnessError(Exception):
    """Base class: a problem the user can fix; ``str(err)`` is the one line shown."""

    exit_code = 2


class DataError(HarnessError):
    """A raw or converted data file is missing, unreadable or inconsistent."""


class DataMissingError(DataError):
    """A file the harness needs does not exist."""


class ChecksumError(DataError):
    """A file's sha256 does not match the recorded value (corrupted or replaced)."""


class SchemaVersionError(DataError):
    """A converted file was written by an older or newer layout version."""


class UnknownNameError(HarnessError):
    """A benchmark, dataset, metric, method or profile name that does not exist."""


class InvalidArchError(HarnessError):
    """An architecture string or index is not in the search space."""


class BudgetExhausted(HarnessError):
    """Raised inside a method when the harness-owned budget is spent (caught by the runner)."""


class MethodError(HarnessError):
    """A method broke its contract (returned an invalid architecture, failed to import ...)."""


class ConfigError(HarnessError):
    """A profile, store path or command-line option is malformed."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` if none is close."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown(kind: str, name: str, choices: Iterable[str]) -> UnknownNameError:
    """Build the standard "unknown X" error with a did-you-mean hint and the valid choices."""
    choices = sorted(str(c) for c in choices)
    return UnknownNameError(
        f"unknown {kind} '{name}'{did_you_mean(name, choices)}; choose one of: "
        + ", ".join(choices)
    )
