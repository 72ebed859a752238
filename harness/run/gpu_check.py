"""The GPU check: on one device, within a wall-clock budget (default 8 minutes), time a few
supernet steps of every one-shot method at a profile's configuration (the paper's by
default: C=16, N=5, batch 64, every image of NB201 CIFAR-10), time DARTS-V1's batched
seeds (K = 1, 2, 4) and bfloat16 autocast, then run DARTS-V1 at that configuration for
as many of its 50 epochs as fit, and write one JSON report.

``python -m harness estimate --device cuda`` reads the report (on any machine) to turn the
paper profile's steps into GPU-hours; a method the report lacks is "not measured". It runs
on a CPU too (``--device cpu`` with a small profile: what the tests do), and says so.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.cellbase import _get_bench, _now, provenance
from harness.core.config import cache_home
from harness.core.errors import ConfigError

REPORT_VERSION = 1


def default_report() -> Path:
    """Where ``gpu-check`` writes and ``estimate --device cuda`` reads the report."""
    return cache_home() / "gpu-check.json"


def _device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    from harness.core.cellbase import cpu_kind

    return f"CPU ({cpu_kind()})"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(torch.device(device))


def _peak_mb(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    import torch

    mb = torch.cuda.max_memory_allocated(torch.device(device)) / 2**20
    torch.cuda.reset_peak_memory_stats(torch.device(device))
    return round(mb, 1)


def time_methods(cells: list, registry, steps: int, say) -> dict[str, dict]:
    """Median seconds of ``steps`` supernet steps (after one warm-up) per method."""
    from harness.oneshot.runner import precision
    from harness.run.estimate import _time_steps, config_key

    out = {}
    for c in cells:
        say(f"timing {steps} steps of {c.method}")
        with precision(c):
            per, ctx = _time_steps(registry.get(c.method), c, steps)
        out[c.method] = {**config_key(c.cfg), "seconds_per_step": round(per, 5),
                         "steps_per_epoch": ctx.steps_per_epoch,
                         "peak_memory_mb": _peak_mb(c.device)}
    return out


def time_batched(cell, registry, steps: int, ks=(1, 2, 4)) -> list[dict]:
    """Seconds per stacked DARTS-V1 step of K seeds and seed-steps per second."""
    from harness.core.seeds import generator
    from harness.oneshot.batched import BatchedContext, _stacked
    from harness.oneshot.runner import batch_maker, begin_epoch, precision, prepare

    out = []
    for k in ks:
        cells = [dataclasses.replace(cell, seed=s) for s in range(k)]
        with precision(cell):
            preps = [prepare(registry.get(cell.method), c) for c in cells]
            for (_, ctx, _, hook), c in zip(preps, cells, strict=True):
                begin_epoch(ctx, c, hook, 0)
            bctx = BatchedContext([p[1] for p in preps])
            data = generator(cell.stream("gpu-check"))
            perm = data.permutation(len(preps[0][2].y_train))
            make = batch_maker(preps[0][2], cell)
            times = []
            for s in range(steps + 1):
                pairs = [make(perm, s % preps[0][1].steps_per_epoch, cell.cfg.batch_size, data)
                         for _ in cells]
                train, valid = _stacked([t for t, _ in pairs]), _stacked([v for _, v in pairs])
                _sync(cell.device)
                t0 = time.perf_counter()
                preps[0][0]._batched_step(bctx, train, valid)
                _sync(cell.device)
                times.append(time.perf_counter() - t0)
        per = statistics.median(times[1:])
        out.append({"K": k, "seconds_per_step": round(per, 5),
                    "seed_steps_per_second": round(k / per, 3),
                    "peak_memory_mb": _peak_mb(cell.device)})
    return out


def run_darts(cell, registry, deadline: float, folder: Path, say) -> dict[str, Any]:
    """DARTS-V1 at ``cell``'s configuration until the epoch that would end past
    ``deadline``; its per-epoch skip weight, derived cell and table accuracy."""
    from harness.core.cell import Paused
    from harness.oneshot.runner import run_oneshot_cell

    bench = _get_bench(cell.benchmark)
    cp = folder / "gpu-check-darts-v1.pt"
    cp.unlink(missing_ok=True)
    say(f"running DARTS-V1 ({cell.cfg.describe(cell.epochs)}) until the time budget ends")
    try:
        row = run_oneshot_cell(registry.get("darts-v1"), cell, bench, cp, deadline=deadline)
        log = row["result"]["log"]
    except Paused:
        import torch

        log = torch.load(cp, weights_only=True)["log"]
    cp.unlink(missing_ok=True)
    from adapters.nb201_supernet import SKIP

    per_epoch = [{"epoch": e["epoch"],
                  "skip_weight": round(float(np.asarray(e["weights"])[:, SKIP].mean()), 5),
                  "skip_edges": e.get("skip_edges"), "cell": e.get("cell"),
                  "test_value": e.get("test_value"), "seconds": e["seconds"]} for e in log]
    spe = statistics.median(e["seconds"] for e in log) if log else None
    return {"configuration": cell.cfg.describe(cell.epochs), "epochs": cell.epochs,
            "epochs_done": len(log), "seconds_per_epoch": spe,
            "hours_for_all_epochs": round(spe * cell.epochs / 3600, 3) if spe else None,
            "per_epoch": per_epoch}


def gpu_check(profile: dict, registry, device: str, minutes: float, steps: int,
              methods: list[str] | None, folder: Path, say) -> dict[str, Any]:
    """Everything above, within ``minutes`` (the DARTS-V1 run gets what is left)."""
    from harness.oneshot.cells import plan_oneshot_cells

    start = time.time()
    ours, _ = registry.load_all()
    cells = plan_oneshot_cells(profile, ours, benchmarks=["nb201"], datasets=["cifar10"],
                               seeds=1, device=device)
    if methods:
        unknown = sorted(set(methods) - {c.method for c in cells})
        if unknown:
            raise ConfigError(f"gpu-check: {', '.join(unknown)} is not a one-shot method of "
                              f"profile '{profile['name']}'; see 'python -m harness list'")
        cells = [c for c in cells if c.method in methods]
    if not cells:
        raise ConfigError(f"gpu-check: profile '{profile['name']}' has no one-shot cell on "
                          "nb201/cifar10 here (no images in the data root?)")
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION, "device": device,
        "device_name": _device_name(device), "profile": profile["name"],
        "configuration": cells[0].cfg.describe(cells[0].epochs), "started": _now(),
        **provenance(device), "minutes_budget": minutes}
    report["steps"] = time_methods(cells, registry, steps, say)
    darts = next((c for c in cells if c.method == "darts-v1"), None)
    if darts is not None:
        say("timing batched DARTS-V1 seeds (K = 1, 2, 4)")
        report["batched_darts_v1"] = time_batched(darts, registry, steps)
        auto = dataclasses.replace(darts, cfg=dataclasses.replace(
            darts.cfg, precision="bfloat16-autocast"))
        report["autocast_bf16"] = time_methods([auto], registry, steps, say)["darts-v1"]
        spent_per_epoch = report["steps"]["darts-v1"]["seconds_per_step"] * \
            report["steps"]["darts-v1"]["steps_per_epoch"]
        deadline = start + 60 * minutes - spent_per_epoch  # the last epoch ends in time
        report["darts_v1_run"] = run_darts(darts, registry, deadline, folder, say)
    report["seconds"] = round(time.time() - start, 1)
    return report


def write_report(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    tmp.replace(path)


def load_report(path: Path) -> dict | None:
    """The report at ``path`` (None if there is none); a broken one is a one-line error."""
    if not path.exists():
        return None
    try:
        rep = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"GPU report {path}: not readable JSON ({exc}); rerun "
                          "'python -m harness gpu-check' or delete the file") from None
    if not isinstance(rep, dict) or rep.get("report_version") != REPORT_VERSION:
        raise ConfigError(f"GPU report {path}: not a version-{REPORT_VERSION} gpu-check "
                          "report; rerun 'python -m harness gpu-check' or delete the file")
    return rep
