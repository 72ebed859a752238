"""The fidelity ladder: one one-shot method (DARTS-V1 by default) at growing search
configurations, to find the cheapest one in which the originals' outcome appears (DARTS-V1
on NB201: the all-skip cell). Each rung x seed is an ordinary one-shot cell run by the
harness's runner; per epoch it records the mean softmax weight of ``skip_connect``, the skip
edges of the derived cell and the cell's table accuracy; with ``--rank K`` the trained
supernet also ranks K stratified archs at the end (Kendall tau against the table). Records
are appended to a JSON-lines file as each cell finishes, and each cell checkpoints every
epoch beside that file, so a killed ladder resumes inside the cell it was running.

Records measured on the project's CPU machine ship with the package
(``harness/report/ladder_records``); ``python -m harness ladder`` writes new ones to the
cache home (``ladder/<method>.jsonl``, :mod:`harness.core.ladder_records`) and the
leaderboard's ladder section reads both.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.ladder_records import append_record, home_records, read_records

#: rungs (C, N, train images = architecture images, epochs), cheapest first: depth first,
#: then images, then epochs, then channels (issue 25, item 3)
DEFAULT_RUNGS: tuple[tuple[int, int, int, int], ...] = (
    (8, 1, 2560, 15), (8, 5, 2560, 15), (4, 5, 1280, 100), (4, 5, 640, 200),
    (8, 5, 5120, 30), (16, 5, 5120, 30))


def rung_label(C: int, N: int, images: int, epochs: int, batch: int = 64) -> str:
    """The rung's key in the results file (the batch only where it is not the paper's 64)."""
    return f"C={C},N={N},images={images},epochs={epochs}" + (
        f",batch={batch}" if batch != 64 else "")


def default_hyperparameters() -> dict[str, dict]:
    """The default profile's per-method hyperparameters (e.g. SPOS's smaller evolution:
    a ladder rung searches as the default profile's cells do)."""
    from harness.run.profile import load_profile

    return dict((load_profile("default").get("oneshot") or {}).get("hyperparameters") or {})


def run_rung(method: str, C: int, N: int, images: int, epochs: int, seed: int,
             dataset: str = "cifar10", batch_size: int = 64, rank: int = 0,
             checkpoint: Path | None = None, progress=None) -> dict[str, Any]:
    """One ladder cell: the row's per-epoch trajectory and final cell (and, with ``rank``,
    the supernet's ranking of that many stratified archs). With ``checkpoint`` a killed cell
    resumes from its last finished epoch (the file is removed at the end); ``progress`` is
    the runner's per-step callback ``(cell, epoch, step, steps)``."""
    from adapters.nb201_supernet import SKIP
    from harness.core.cellbase import _get_bench
    from harness.core.registry import default_registry
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.runner import run_oneshot_cell

    cfg = OneShotConfig("reduced", C=C, N=N, batch_size=batch_size, train_images=images,
                        valid_images=images, epochs=epochs,
                        hyperparameters=default_hyperparameters())
    cell = OneShotCell(method, "nb201", dataset, seed, cfg, epochs, "cpu", 0, ranking=rank,
                       minutes=None)
    cls = default_registry().get(method)
    t0 = time.perf_counter()
    if checkpoint is None:
        with tempfile.TemporaryDirectory() as tmp:
            row = run_oneshot_cell(cls, cell, _get_bench("nb201"), Path(tmp) / "ck.pt",
                                   progress)
    else:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        row = run_oneshot_cell(cls, cell, _get_bench("nb201"), checkpoint, progress)
        checkpoint.unlink(missing_ok=True)
    res = row["result"]
    per_epoch = [{"epoch": e["epoch"],
                  "skip_weight": round(float(np.asarray(e["weights"])[:, SKIP].mean()), 5),
                  "skip_edges": e["skip_edges"], "test_value": e["test_value"],
                  "seconds": e["seconds"]} for e in res["log"] if "weights" in e]
    out = {"method": method, "method_version": row["method_version"], "dataset": dataset,
           "seed": seed, "rung": rung_label(C, N, images, epochs, batch_size), "C": C, "N": N,
           "images": images, "epochs": epochs, "batch_size": batch_size,
           "steps": epochs * (images // batch_size), "cell": res["cell"],
           "skip_edges": res["skip_edges"], "test_value": row["test_value"],
           "seconds": round(time.perf_counter() - t0, 1), "per_epoch": per_epoch,
           "threads": row["config"]["threads"], "finished": row["finished"],
           **{k: row[k] for k in ("package_version", "git_commit", "torch", "host")}}
    if rank:
        rk = res["ranking"]
        # per-arch values too, so an estimate can be studied again without retraining
        out["ranking"] = {k: rk[k] for k in (
            "estimate", "supernet_vs_test", "supernet_vs_valid", "log_weight_vs_test",
            "param_free_bias", "archs",
            "supernet_acc", "table_test", "log_weight") if k in rk}
    return out


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


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ladder's options (shared by ``python -m harness ladder`` and this module)."""
    p.add_argument("--out", type=Path, default=None,
                   help="JSON-lines file, appended and resumable (default: the cache home's "
                        "ladder/<method>.jsonl)")
    p.add_argument("--method", default="darts-v1", help="a one-shot method (default darts-v1)")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    p.add_argument("--seed", type=int, action="append", default=None,
                   help="run only this seed (repeatable; overrides --seeds)")
    p.add_argument("--rung", action="append", default=None, type=_rung,
                   help="C,N,train_images,epochs (repeatable; default: the built-in ladder "
                        + " ".join(",".join(map(str, r)) for r in DEFAULT_RUNGS) + ")")
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64, the paper's)")
    p.add_argument("--rank", type=int, default=0, metavar="K",
                   help="rank K stratified archs with the trained supernet (default 0: none)")


def _epoch_printer(label: str, seed: int):
    """A per-step callback that prints one line to stderr at the end of every epoch (a
    ladder cell runs for about an hour: the user sees it move and its pace)."""
    t0 = time.perf_counter()

    def progress(cell, epoch: int, step: int, steps: int) -> None:
        if step == steps - 1:
            print(f"{label} seed {seed}: epoch {epoch + 1}/{cell.epochs} "
                  f"({time.perf_counter() - t0:.0f} s in this process)", file=sys.stderr,
                  flush=True)
    return progress


def run(a: argparse.Namespace) -> int:
    """Run every (rung, seed) not yet in the records file, cheapest rung first."""
    import torch

    from harness.core.registry import default_registry

    default_registry().get(a.method)  # an unknown method is one line before any work
    out = Path(a.out) if a.out else home_records(a.method)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    seeds = a.seed if a.seed else list(range(a.seeds))
    for C, N, images, epochs in a.rung or DEFAULT_RUNGS:
        label = rung_label(C, N, images, epochs, a.batch)
        for seed in seeds:
            # read again before every cell: ladders may run side by side on one file
            if any(r["method"] == a.method and r["rung"] == label and r["seed"] == seed
                   for r in read_records(out)):
                continue
            name = label.replace(",", "_").replace("=", "")
            ck = out.with_suffix(".checkpoints") / f"{a.method}-{name}-s{seed}.pt"
            r = run_rung(a.method, C, N, images, epochs, seed, batch_size=a.batch,
                         rank=a.rank, checkpoint=ck, progress=_epoch_printer(label, seed))
            append_record(out, r)
            tau = (f", supernet tau {r['ranking']['supernet_vs_test']['kendall']:.3f}"
                   if a.rank else "")
            print(f"{label} seed {seed}: {r['skip_edges']} skip edges, "
                  f"{r['test_value']:.2f} %{tau} ({r['seconds']:.0f} s) -> {out}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.run.ladder",
                                description=__doc__.split("\n\n")[0])
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
