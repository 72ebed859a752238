"""The reproducibility check of a leaderboard: the sha256 of every file a build writes,
except the timings folder (:mod:`harness.report.timings`), which is the one part allowed to
differ between two runs of the same profile.

``python -m harness verify`` compares a fresh smoke run's leaderboard with the manifest
committed in ``harness/cli/expected/smoke-leaderboard.json``; ``verify --profile default
--against leaderboard`` compares a fresh default run with the committed ``leaderboard/``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.report.timings import FOLDER

#: files of a leaderboard folder that are inputs of the build (committed beside its output
#: in ``leaderboard/``), not output
INPUTS = {"specs.json", "reference_numbers.json"}


def digests(folder: str | Path) -> dict[str, str]:
    """{relative path: sha256} of a leaderboard's output files, timings excluded."""
    root = Path(folder)
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and rel not in INPUTS and rel.split("/", 1)[0] != FOLDER:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def compare(want: dict[str, str], got: dict[str, str]) -> list[str]:
    """One line per difference between two manifests (empty: identical)."""
    lines = []
    for rel in sorted(set(want) | set(got)):
        if rel not in got:
            lines.append(f"{rel}: missing from the regenerated leaderboard")
        elif rel not in want:
            lines.append(f"{rel}: new in the regenerated leaderboard")
        elif want[rel] != got[rel]:
            lines.append(f"{rel}: different bytes")
    return lines
