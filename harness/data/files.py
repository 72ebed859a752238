"""Raw and converted files on disk: what a data folder's PROVENANCE.txt records about its
files, and the temporary files a killed conversion leaves behind."""

from __future__ import annotations

import os
from pathlib import Path


def listed_sha256(provenance: str, name: str) -> str | None:
    """The sha256 a PROVENANCE.txt records for the file called ``name``, if any (entries
    name a file by a ``file:`` or ``path:`` line, followed by a ``sha256:`` line)."""
    current = None
    for line in provenance.splitlines():
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if key in ("file", "path"):
            current = Path(value.split()[0]).name if value else None
        elif key == "sha256" and current == name and value:
            return value.split()[0].lower()
    return None


def remove_stale_tmps(path: Path) -> None:
    """Delete ``<file>.<pid>.tmp`` left by a conversion whose process was killed."""
    for tmp in path.parent.glob(f"{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 1:-len(".tmp")]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
