"""Throughput of a score table's build through the real path (the proxy sweep, the engine,
the score cache) for a fixed wall time, into a temporary table folder: archs scored and
milliseconds per arch, one worker.

    python tests/bench/score_table_build.py                      # synflow, CIFAR-10, 30 s
    python tests/bench/score_table_build.py --proxy nwot --seconds 60
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def measure(proxy: str = "synflow", dataset: str = "cifar10", seconds: float = 30.0) -> dict:
    import torch

    from harness.core.registry import default_registry
    from harness.run import score_tables
    from harness.search import proxy_tables as pt

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder, pt.folder = pt.folder, lambda: Path(tmp)
        try:
            t0 = time.perf_counter()
            rep = score_tables.build("nb201", dataset, proxy, default_registry(), jobs=1,
                                     deadline=time.monotonic() + seconds)
            wall = time.perf_counter() - t0
        finally:
            pt.folder = folder
    return {"proxy": proxy, "dataset": dataset, "archs": rep.scored,
            "seconds": round(wall, 2), "ms_per_arch": round(1000 * wall / max(rep.scored, 1), 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--proxy", default="synflow")
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--seconds", type=float, default=30.0)
    a = p.parse_args()
    print(measure(a.proxy, a.dataset, a.seconds))


if __name__ == "__main__":
    main()
