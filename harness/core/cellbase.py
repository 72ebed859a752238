"""What every kind of cell (search, proxy, one-shot) needs, below all of their runners:
the process's benchmark cache (one open benchmark per name and process, so pool workers
load each once), profile selection by the CLI filters, timestamps and provenance.

Imports only leaf modules (no runner), so the runners can import it without cycles."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata as md
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from harness import __version__


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=5)
        return out.stdout.strip() or "unknown"
    except Exception:
        return "unknown"


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


_PROVENANCE: dict[str, str] | None = None


def provenance(device: str = "cpu") -> dict[str, str]:
    global _PROVENANCE
    if _PROVENANCE is None:
        _PROVENANCE = {"package_version": __version__, "git_commit": _git_commit(),
                       "python": platform.python_version(), "numpy": np.__version__,
                       "torch": _version("torch"), "host": socket.gethostname()}
    return {**_PROVENANCE, "device": device}


def cpu_kind() -> str:
    """The CPU's model and the instruction set torch's kernels use, e.g. "AMD EPYC 9B14
    (torch kernels: AVX512)": float32 one-shot cells differ between CPU kinds (docs/
    oneshot.md, "What the default run found"), so a run log names the kind it ran on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    try:
        import torch

        return f"{model} (torch kernels: {torch.backends.cpu.get_cpu_capability()})"
    except Exception:  # no torch, or one without the query: the model alone
        return model


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")



def selected(section: dict, benchmarks=None, datasets=None):
    """(benchmark, dataset) pairs of a profile section that pass the CLI filters."""
    for bname, dsets in section["benchmarks"].items():
        if benchmarks and bname not in benchmarks:
            continue
        for ds in dsets:
            if not datasets or ds in datasets:
                yield bname, ds



_WORKER_BENCH: dict[str, Any] = {}


def _get_bench(name: str):
    if name not in _WORKER_BENCH:
        import adapters

        _WORKER_BENCH[name] = adapters.load_benchmark(name)
    return _WORKER_BENCH[name]
