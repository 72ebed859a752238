"""A search cell that loops forever or raises is stopped / recorded as failed with its
error, and the other cells of the run still produce their rows."""

from __future__ import annotations

import time

import pytest

from harness.api import Proxy, SearchStrategy
from harness.core import cellbase
from harness.core.budget import Budget
from harness.core.registry import default_registry
from harness.core.store import open_store
from harness.core.timelimit import CellTimeout, time_limit
from harness.run import engine as runner
from harness.search.cells import Cell


class Forever(SearchStrategy):
    """Queries one arch, then loops and swallows every Exception it sees."""

    def _search(self, oracle, rng):
        oracle.query(0)
        while True:
            try:
                time.sleep(0.01)
            except Exception:  # noqa: BLE001 - the point: it must not swallow the limit
                pass


class Raises(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query(0)
        raise ValueError("bad index arithmetic")


class _Reg:
    def __init__(self, extra):
        self.base, self.extra = default_registry(), extra

    def get(self, name):
        return self.extra.get(name) or self.base.get(name)


def test_time_limit_stops_a_block_that_swallows_exceptions():
    t0 = time.monotonic()
    with pytest.raises(CellTimeout, match="exceeded its time limit"):
        with time_limit(0.5 / 60, "a test block"):
            while True:
                try:
                    time.sleep(0.01)
                except Exception:  # noqa: BLE001
                    pass
    assert time.monotonic() - t0 < 5


def test_a_hanging_and_a_raising_cell_fail_alone(nb201, tmp_path, monkeypatch):
    monkeypatch.setitem(cellbase._WORKER_BENCH, "nb201", nb201)
    reg = _Reg({"forever": Forever, "raises": Raises})
    cells = [Cell(m, "nb201", "cifar10", 0, Budget(queries=20), 1, minutes=0.02)
             for m in ("forever", "raises", "random")]
    store = open_store(tmp_path / "r.sqlite")
    t0 = time.monotonic()
    summary = runner.execute(cells, store, reg, progress=False)
    assert time.monotonic() - t0 < 30  # the endless cell was stopped after ~1.2 s
    assert summary.ran == 1 and [r["method"] for r in store.rows()] == ["random"]
    failed = "\n".join(summary.failed)
    assert "forever on nb201/cifar10 seed 0 exceeded its time limit of 0.02 min" in failed
    assert "raises on nb201/cifar10 seed 0 raised ValueError: bad index arithmetic" in failed
    again = runner.execute(cells, store, reg, progress=False)  # failures are not stored:
    assert again.skipped == 1 and len(again.failed) == 2      # the next run retries them


def test_bad_cell_minutes_is_one_line(tmp_path, harness_home, data_root):
    from tests.helpers import assert_one_line_error, run_cli

    proc = run_cli("run", "random", "--profile", "smoke", "--cell-minutes", "-1", "--store",
                   str(tmp_path / "s.sqlite"), env={"NAS_HARNESS_HOME": str(harness_home),
                                                    "NAS_HARNESS_DATA": str(data_root)})
    assert_one_line_error(proc, "--cell-minutes -1", "0 (no limit)")


class Sleeper(Proxy):
    """A plugin proxy that never returns (and swallows exceptions)."""

    def _score(self, ctx):
        while True:
            try:
                time.sleep(0.01)
            except Exception:  # noqa: BLE001
                pass


def test_a_hanging_proxy_fails_its_cells_only(nb201, tmp_path, monkeypatch):
    from harness.proxies.cells import ProxyCell

    monkeypatch.setitem(cellbase._WORKER_BENCH, "nb201", nb201)
    reg = _Reg({"sleeper": Sleeper})
    # the sleeper alone gets the 0.6-s limit: a group shares one limit, and synflow under a
    # loaded CI machine could exceed 0.6 s too (it did once)
    cells = [ProxyCell("sleeper", "nb201", "cifar10", 0, 4, 8, "cpu", 7, minutes=0.01)] + [
        ProxyCell(n, "nb201", "cifar10", 0, 4, 8, "cpu", 7, minutes=1)
        for n in ("synflow", "params")]
    store = open_store(tmp_path / "p.sqlite")
    t0 = time.monotonic()
    summary = runner.execute(cells, store, reg, progress=False)
    assert time.monotonic() - t0 < 60  # one 0.6-s limit, then the sweep gives the proxy up
    assert sorted(r["method"] for r in store.rows()) == ["params", "synflow"]
    assert all(r["result"]["complete"] for r in store.rows())
    (failed,) = summary.failed
    assert failed.startswith("sleeper/nb201/cifar10/seed 0: proxy sleeper on nb201/cifar10")
    assert "exceeded its time limit of 0.01 min" in failed
    assert summary.sweep.failed_proxies and len(summary.sweep.failed_proxies) == 1


class Raiser(Proxy):
    def _score(self, ctx):
        raise ValueError("bad reshape")


class Exiter(Proxy):
    needs_model = False

    def _score(self, ctx):
        raise SystemExit(1)


def test_a_raising_or_exiting_proxy_fails_its_cells_only(nb201, tmp_path, monkeypatch):
    from harness.proxies.cells import ProxyCell

    monkeypatch.setitem(cellbase._WORKER_BENCH, "nb201", nb201)
    reg = _Reg({"raiser": Raiser, "exiter": Exiter})
    cells = [ProxyCell(n, "nb201", "cifar10", 0, 4, 8, "cpu", 7)
             for n in ("raiser", "exiter", "params")]
    store = open_store(tmp_path / "p.sqlite")
    summary = runner.execute(cells, store, reg, progress=False)
    assert [r["method"] for r in store.rows()] == ["params"]
    failed = "\n".join(sorted(summary.failed))
    assert "exiter/nb201/cifar10/seed 0: proxy exiter on nb201/cifar10 arch" in failed
    assert "called sys.exit(1)" in failed
    assert "proxy raiser on nb201/cifar10 arch" in failed
    assert "raised ValueError: bad reshape" in failed


def _darts():
    return default_registry().get("darts-v1")


class _HangingStep(_darts()):
    def _step(self, ctx, train, valid):
        while True:
            try:
                time.sleep(0.01)
            except Exception:  # noqa: BLE001
                pass


class _RaisingDerive(_darts()):
    def _derive(self, ctx):
        raise KeyError("edge 7")


class _PeekingDerive(_darts()):
    def _derive(self, ctx):
        from harness.core.cellbase import _get_bench

        try:  # the table through the harness's own benchmark cache, error swallowed
            _get_bench("nb201").query([0], "test_acc", "cifar10")
        except Exception:  # noqa: BLE001
            pass
        return super()._derive(ctx)


@pytest.mark.parametrize("cls, minutes, needle", [
    (_PeekingDerive, 5.0, "darts-v1._derive on nb201/cifar10 seed 0 read cifar10/test_acc "
                          "while searching; a one-shot method reads no table metric"),
    (_HangingStep, 0.01,
     "darts-v1._step on nb201/cifar10 seed 0 exceeded its time limit of 0.01"),
    # a generous limit: only the raise may end this one, however loaded the machine is
    (_RaisingDerive, 5.0, "darts-v1._derive on nb201/cifar10 seed 0 raised KeyError: 'edge 7'"),
])
def test_a_one_shot_hook_that_hangs_or_raises_fails_its_cell(cls, minutes, needle, nb201,
                                                            tmp_path):
    import torch

    from harness.core.errors import HarnessError
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.oneshot.runner import run_oneshot_cell

    torch.set_num_threads(1)
    cfg = OneShotConfig("smoke", C=4, N=1, batch_size=32, train_images=64, valid_images=64,
                        epochs=1, eval_batch=32, eval_batches=1, bn_batches=1)
    cell = OneShotCell("darts-v1", "nb201", "cifar10", 0, cfg, 1, "cpu", 1, minutes=minutes)
    t0 = time.monotonic()
    with pytest.raises(HarnessError, match=needle.replace(".", r"\.")):
        run_oneshot_cell(cls, cell, nb201, tmp_path / "c.pt")
    assert time.monotonic() - t0 < 60


def test_units_ask_for_what_they_need():
    """Resource requests (no Ray needed): CPU cells one thread; CUDA proxy chunks and
    one-shot cells a GPU and a fair share of the CPUs; search cells no torch."""
    from harness.core.cell import Unit
    from harness.oneshot.cells import OneShotCell, OneShotConfig
    from harness.proxies.cells import ProxyCell
    from harness.proxies.sweep import ProxyChunk
    from harness.run.executors import threads_for
    from harness.run.ray_executor import task_options

    cfg = OneShotConfig("smoke")
    search = Cell("random", "nb201", "cifar10", 0, Budget(queries=5), 1)
    units = {
        "search": search,
        "chunk-cpu": ProxyChunk(ProxyCell("snip", "nb201", "cifar10", 0, 8, 8, "cpu", 1),
                                ("snip",), (1, 2)),
        "chunk-cuda": ProxyChunk(ProxyCell("snip", "nb201", "cifar10", 0, 8, 8, "cuda", 1),
                                 ("snip",), (1, 2)),
        "oneshot-cpu": OneShotCell("gdas", "nb201", "cifar10", 0, cfg, 2, "cpu", 1),
        "oneshot-cuda": OneShotCell("gdas", "nb201", "cifar10", 0, cfg, 2, "cuda:0", 1),
    }
    assert all(isinstance(u, Unit) for u in units.values())  # the protocol, checked
    opts = {k: task_options(u, slots=16, retries=3) for k, u in units.items()}
    assert opts["search"]["num_cpus"] == 1 and "num_gpus" not in opts["search"]
    assert not units["search"].resources().torch
    assert opts["chunk-cpu"]["num_cpus"] == 1 and "num_gpus" not in opts["chunk-cpu"]
    assert opts["chunk-cuda"]["num_gpus"] == 1 and opts["chunk-cuda"]["num_cpus"] == 1
    assert opts["oneshot-cpu"]["num_cpus"] == 1 and opts["oneshot-cpu"]["memory"] == 2 << 30
    assert opts["oneshot-cuda"]["num_gpus"] == 1 and opts["oneshot-cuda"]["memory"] == 8 << 30
    assert opts["oneshot-cuda"]["name"] == "harness_OneShotCell"
    assert all(o["max_retries"] == 3 for o in opts.values())
    # the local pool: N workers never oversubscribe the cores
    assert threads_for(units["oneshot-cuda"].resources(), workers=4, cores=16) == 4
    assert threads_for(units["oneshot-cpu"].resources(), workers=1, cores=16) == 1
    assert threads_for(units["chunk-cuda"].resources(), workers=32, cores=16) == 1
