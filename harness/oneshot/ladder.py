"""The fidelity ladder: one one-shot method (DARTS-V1 by default) at growing search
configurations, to find the cheapest one in which the originals' outcome appears (DARTS-V1
on NB201: the all-skip cell). Each rung x seed is an ordinary one-shot cell run by the
harness's runner; per epoch it records the mean softmax weight of ``skip_connect``, the skip
edges of the derived cell and the cell's table accuracy. Results are appended to a JSON-lines
file as each cell finishes, and each cell checkpoints every epoch beside that file, so a
killed ladder resumes inside the cell it was running.

Usage: ``python -m harness.oneshot.ladder --out ladder.jsonl [--method darts-v1]
[--seeds 3 | --seed S ...] [--rung C,N,train_images,epochs ...]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

#: rungs (C, N, train images = architecture images, epochs), cheapest first: depth first,
#: then images, then epochs, then channels (issue 25, item 3)
DEFAULT_RUNGS: tuple[tuple[int, int, int, int], ...] = (
    (8, 1, 2560, 15), (8, 5, 2560, 15), (8, 5, 5120, 15), (8, 5, 5120, 30), (16, 5, 5120, 30))


def rung_label(C: int, N: int, images: int, epochs: int) -> str:
    """The rung's key in the results file."""
    return f"C={C},N={N},images={images},epochs={epochs}"


def run_rung(method: str, C: int, N: int, images: int, epochs: int, seed: int,
             dataset: str = "cifar10", batch_size: int = 64,
             checkpoint: Path | None = None) -> dict[str, Any]:
    """One ladder cell: the row's per-epoch trajectory and final cell. With ``checkpoint``
    a killed cell resumes from its last finished epoch (the file is removed at the end)."""
    from adapters.nb201_supernet import SKIP
    from harness.core.cellbase import _get_bench
    from harness.core.registry import default_registry
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.runner import run_oneshot_cell

    cfg = OneShotConfig("reduced", C=C, N=N, batch_size=batch_size, train_images=images,
                        valid_images=images, epochs=epochs)
    cell = OneShotCell(method, "nb201", dataset, seed, cfg, epochs, "cpu", 0, minutes=None)
    cls = default_registry().get(method)
    t0 = time.perf_counter()
    if checkpoint is None:
        with tempfile.TemporaryDirectory() as tmp:
            row = run_oneshot_cell(cls, cell, _get_bench("nb201"), Path(tmp) / "ck.pt")
    else:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        row = run_oneshot_cell(cls, cell, _get_bench("nb201"), checkpoint)
        checkpoint.unlink(missing_ok=True)
    res = row["result"]
    per_epoch = [{"epoch": e["epoch"],
                  "skip_weight": round(float(np.asarray(e["weights"])[:, SKIP].mean()), 5),
                  "skip_edges": e["skip_edges"], "test_value": e["test_value"],
                  "seconds": e["seconds"]} for e in res["log"] if "weights" in e]
    return {"method": method, "dataset": dataset, "seed": seed,
            "rung": rung_label(C, N, images, epochs), "C": C, "N": N, "images": images,
            "epochs": epochs, "batch_size": batch_size,
            "steps": epochs * (images // batch_size), "cell": res["cell"],
            "skip_edges": res["skip_edges"], "test_value": row["test_value"],
            "seconds": round(time.perf_counter() - t0, 1), "per_epoch": per_epoch}


def _done(out: Path) -> set[tuple[str, str, int]]:
    """(method, rung, seed) of the cells already in ``out``."""
    if not out.exists():
        return set()
    rows = (json.loads(line) for line in out.read_text().splitlines() if line.strip())
    return {(r["method"], r["rung"], r["seed"]) for r in rows}


def _rung(text: str) -> tuple[int, int, int, int]:
    try:
        rung = tuple(int(v) for v in text.split(","))
    except ValueError:
        rung = ()
    if len(rung) != 4 or min(rung) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a rung; give four positive integers C,N,train_images,epochs, "
            "e.g. 8,5,2560,15")
    return rung  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.oneshot.ladder",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="JSON-lines file (appended; resumable)")
    p.add_argument("--method", default="darts-v1")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--rung", action="append", default=None, type=_rung,
                   help="C,N,train_images,epochs (repeatable; default: the built-in ladder)")
    p.add_argument("--seed", type=int, action="append", default=None,
                   help="run only this seed (repeatable; overrides --seeds)")
    a = p.parse_args(argv)
    rungs = a.rung or DEFAULT_RUNGS
    out = Path(a.out)
    import torch

    torch.set_num_threads(1)
    seeds = a.seed if a.seed else list(range(a.seeds))
    for C, N, images, epochs in rungs:
        for seed in seeds:
            # read again before every cell: ladders may run side by side on one file
            if (a.method, rung_label(C, N, images, epochs), seed) in _done(out):
                continue
            name = rung_label(C, N, images, epochs).replace(",", "_").replace("=", "")
            ck = out.with_suffix(".checkpoints") / f"{a.method}-{name}-s{seed}.pt"
            r = run_rung(a.method, C, N, images, epochs, seed, checkpoint=ck)
            with out.open("a") as f:
                f.write(json.dumps(r) + "\n")
            print(f"{r['rung']} seed {seed}: {r['skip_edges']} skip edges, "
                  f"{r['test_value']:.2f} % ({r['seconds']:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
