"""Where raw data lives (the data root) and where converted files go (the cache home).

* raw-data root: ``--data-root`` or ``NAS_HARNESS_DATA`` (the README points it at
  ``../shared/data``); a user elsewhere points it at the official releases.
* cache home: ``NAS_HARNESS_HOME``, default ``~/.cache/nas-harness`` (XDG_CACHE_HOME honoured).
"""

from __future__ import annotations

import os
from pathlib import Path

_DATA_ROOT_OVERRIDE: Path | None = None


def set_data_root(path: str | os.PathLike | None) -> None:
    """Override the raw-data root for this process (used by ``--data-root``)."""
    global _DATA_ROOT_OVERRIDE
    _DATA_ROOT_OVERRIDE = Path(path).expanduser() if path else None


def data_root() -> Path | None:
    """The raw-data root, or None when neither ``--data-root`` nor NAS_HARNESS_DATA is set."""
    if _DATA_ROOT_OVERRIDE is not None:
        return _DATA_ROOT_OVERRIDE
    env = os.environ.get("NAS_HARNESS_DATA")
    return Path(env).expanduser() if env else None


_CHECKED: set[Path] = set()


def cache_home() -> Path:
    """Directory for converted HDF5 files and other derived, re-creatable artefacts; created
    on first use (ConfigError, one line, when it cannot be created or written)."""
    env = os.environ.get("NAS_HARNESS_HOME")
    if env:
        home = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        home = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "nas-harness"
    if home not in _CHECKED:
        from harness.core.errors import ConfigError

        fix = "point NAS_HARNESS_HOME at a folder you can write to"
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cache home {home}: cannot create it ({exc.strerror}); "
                              f"{fix}") from None
        if not os.access(home, os.W_OK):
            raise ConfigError(f"cache home {home}: not writable; {fix}")
        _CHECKED.add(home)
    return home


#: labels of one-shot search configurations, largest first: ``paper`` (the reference's),
#: ``cpu-collapse`` (the cheapest CPU size in which DARTS-V1 collapses as in the NB201 paper,
#: found by the fidelity ladder), ``reduced`` and ``smoke``; one labels every number produced
ONESHOT_LABELS = ("paper", "cpu-collapse", "reduced", "smoke")
