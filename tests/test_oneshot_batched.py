"""Batched seeds (harness.oneshot.batched): K seeds of DARTS-V1 trained as one stacked
supernet give each seed the row, the weights and the alpha of running it alone."""

from __future__ import annotations

import pytest
import torch

from harness.core.errors import MethodError
from harness.core.registry import default_registry
from harness.core.store import without_volatile
from harness.oneshot.batched import can_batch, run_batched
from harness.oneshot.cells import OneShotCell, OneShotConfig
from harness.oneshot.runner import run_oneshot_cell

CFG = OneShotConfig("smoke", C=4, N=1, batch_size=32, train_images=128, valid_images=128,
                    epochs=3, eval_batch=64, eval_batches=1, bn_batches=1,
                    precision="float64")


def _cells(method: str = "darts-v1", seeds=(0, 1, 2)) -> list[OneShotCell]:
    return [OneShotCell(method, "nb201", "cifar10", s, CFG, CFG.epochs, "cpu", 5)
            for s in seeds]


def _same_row(a: dict, b: dict) -> dict:
    assert b["config"]["batched_seeds"] > 1 and "batched_seeds" not in a["config"]
    a, b = without_volatile(a), without_volatile(b)  # the marker is how it ran, not what
    return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def _state(path) -> dict[str, torch.Tensor]:
    data = torch.load(path, weights_only=True)
    return {**data["supernet"], "alpha": data["state"]["alpha"],
            **{f"momentum{i}": s["momentum_buffer"]
               for i, s in data["w_optimizer"]["state"].items()},
            "exp_avg": data["state"]["arch_optimizer"]["state"][0]["exp_avg"]}


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].detach().double() - b[k].detach().double()).abs().max()) for k in a)


def test_batched_seeds_equal_single_runs(nb201, tmp_path, monkeypatch):
    """Three DARTS-V1 seeds (float64, 3 epochs x 4 steps) batched vs one by one: the same
    rows (derived cell, per-epoch alpha softmax, losses, table lookups) and, after the last
    epoch, the same weights, BN statistics, momentum buffers, alpha and Adam moments up to
    summation order (<= 1e-10). The gradient clip is lowered to 1.0, which these seeds'
    gradient norms (0.7-2.1) cross at different steps, so a clip shared by the seeds
    would fail here."""
    from harness.oneshot import context

    monkeypatch.setitem(context.WEIGHT_OPTIMISER, "grad_clip", 1.0)
    cls = default_registry().get("darts-v1")
    cells = _cells()
    alone = [run_oneshot_cell(cls, c, nb201, tmp_path / f"alone{c.seed}.pt") for c in cells]
    together = run_batched(cls, cells, nb201, [tmp_path / f"b{c.seed}.pt" for c in cells])
    for a, b in zip(alone, together, strict=True):
        assert a["seed"] == b["seed"]
        assert _same_row(a, b) == {}
    # different seeds really trained differently (the stacking does not mix them)
    assert len({tuple(map(tuple, r["result"]["log"][-1]["weights"])) for r in alone}) == 3
    for c in cells:
        assert _max_diff(_state(tmp_path / f"alone{c.seed}.pt"),
                         _state(tmp_path / f"b{c.seed}.pt")) <= 1e-10


def test_batched_seeds_resume_from_level_checkpoints(nb201, tmp_path):
    """Cells checkpointed at the same epoch resume batched (optimiser states stacked from
    the checkpoints) to an uninterrupted run's rows; cells at different epochs are
    brought to the end one by one."""
    from harness.core.cell import Paused

    cls = default_registry().get("darts-v1")
    cells = _cells(seeds=(0, 1))
    whole = [run_oneshot_cell(cls, c, nb201, tmp_path / f"w{c.seed}.pt") for c in cells]
    cps = [tmp_path / f"r{c.seed}.pt" for c in cells]
    for c, cp in zip(cells, cps, strict=True):
        with pytest.raises(Paused):
            run_oneshot_cell(cls, c, nb201, cp, stop_after=1)
    resumed = run_batched(cls, cells, nb201, cps)
    for a, b in zip(whole, resumed, strict=True):
        assert _same_row(a, b) == {}
    uneven = [tmp_path / f"u{c.seed}.pt" for c in cells]
    with pytest.raises(Paused):
        run_oneshot_cell(cls, cells[0], nb201, uneven[0], stop_after=2)
    rows = run_batched(cls, cells, nb201, uneven)
    assert [without_volatile(r)["result"]["ops"] for r in rows] == \
        [without_volatile(r)["result"]["ops"] for r in whole]
    assert all("batched_seeds" not in r["config"] for r in rows)  # run one by one


def test_only_stackable_methods_and_seed_groups_run_batched(nb201, tmp_path):
    reg = default_registry()
    assert can_batch(reg.get("darts-v1")) and not can_batch(reg.get("gdas"))
    with pytest.raises(MethodError, match="gdas has no _batched_step.*--jobs"):
        run_batched(reg.get("gdas"), _cells("gdas"), nb201, [tmp_path / "x.pt"] * 3)
    mixed = [_cells()[0], OneShotCell("darts-v1", "nb201", "cifar100", 1, CFG, 3, "cpu", 5)]
    with pytest.raises(MethodError, match="differ only in their seed"):
        run_batched(reg.get("darts-v1"), mixed, nb201, [tmp_path / "y.pt"] * 2)


def test_run_batch_seeds_stores_the_rows_of_a_plain_run(tmp_path, harness_home, data_root,
                                                       nb201):
    """``run --batch-seeds 2`` over 3 seeds of DARTS-V1 (a group of 2 and a lone cell) and
    GDAS (never batched) stores the rows of a plain run; a bad K is one line."""
    from harness.core.store import open_store
    from tests.helpers import assert_one_line_error, run_cli
    from tests.test_oneshot import _rows, _tiny_profile

    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root),
           "OMP_NUM_THREADS": "1"}
    prof = _tiny_profile(tmp_path, epochs=2, precision="float64")
    plain, batched = tmp_path / "plain.sqlite", tmp_path / "batched.sqlite"
    for store, extra in ((plain, []), (batched, ["--batch-seeds", "2"])):
        run_cli("run", "darts-v1", "gdas", "--profile", prof, "--seeds", "3", "--store",
                str(store), "--quiet", *extra, env=env, check=True)
    rows = open_store(batched).rows()
    assert sorted((r["method"], r["seed"], r["config"].get("batched_seeds")) for r in rows) \
        == [("darts-v1", 0, 2), ("darts-v1", 1, 2), ("darts-v1", 2, None),
            ("gdas", 0, None), ("gdas", 1, None), ("gdas", 2, None)]
    assert sorted(map(str, _rows(batched))) == sorted(map(str, _rows(plain)))
    assert not list(batched.with_suffix(".checkpoints").glob("*.pt"))
    assert_one_line_error(run_cli("run", "darts-v1", "--profile", prof, "--batch-seeds", "0"),
                          "--batch-seeds 0", "1 to 64")
