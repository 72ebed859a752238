"""Every registered method passes the shipped conformance suite; the suite catches cheats."""

from __future__ import annotations

import numpy as np
import pytest

from harness.api import SearchStrategy
from harness.core.errors import MethodError
from harness.core.registry import default_registry
from harness.testing import check_method

BUILTIN = ["random", "rea", "reinforce", "local-search"]


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_method_conforms(name, nb201):
    cls = default_registry().get(name)
    assert check_method(cls, nb201, "cifar100") == [
        "never_reads_test_metrics", "valid_arch_ids", "leaves_its_oracle_alone",
        "within_time_limit", "respects_budget", "deterministic_for_seed",
        "returns_valid_archs"]


def _inner(oracle):
    """The harness's oracle behind a view, reached by introspection (what a determined
    cheater does: there is no attribute leading there)."""
    return oracle.query.__closure__[0].cell_contents.__self__


class _PeeksAtTest(SearchStrategy):  # by attribute: there is none
    def _search(self, oracle, rng):
        test = oracle.bench.query(np.arange(oracle.num_archs), "test_acc", "cifar100")
        oracle.query(int(np.argmax(test)))


class _PeeksThroughInternals(SearchStrategy):  # the table through the oracle's internals
    def _search(self, oracle, rng):
        bench = _inner(oracle).bench
        test = bench.query(np.arange(oracle.num_archs), "test_acc", "cifar100")
        oracle.query(int(np.argmax(test)))


class _PeeksAtTheFile(SearchStrategy):  # the HDF5 reader, swallowing the error
    def _search(self, oracle, rng):
        try:
            _inner(oracle).bench.h5.array("cifar100", "test_acc")
        except Exception:  # noqa: BLE001 - the point: swallowing does not help
            pass
        for a in rng.permutation(oracle.num_archs):
            oracle.query(a)


class _ResetsUsage(SearchStrategy):
    def _search(self, oracle, rng):
        inner = _inner(oracle)
        for a in rng.permutation(oracle.num_archs)[:200]:
            inner.usage.queries = 0
            oracle.query(a)


class _SwapsBudget(SearchStrategy):
    def _search(self, oracle, rng):
        from harness.core.budget import Budget

        _inner(oracle).budget = Budget(queries=2000)
        for a in rng.permutation(oracle.num_archs):
            oracle.query(a)


class _ForgesValues(SearchStrategy):
    def _search(self, oracle, rng):
        for a in rng.permutation(oracle.num_archs):
            oracle.query(a)
            _inner(oracle).seen[int(a)] = 100.0


class _SetsAttributes(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query = lambda a: 100.0


class _FloatIds(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query(2.7)


class _StringIds(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query("3")


class _Exits(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query(0)
        raise SystemExit(0)


class _Loops(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query(0)
        while True:
            pass


class _GlobalRng(SearchStrategy):
    def _search(self, oracle, rng):
        while True:
            oracle.query(int(np.random.randint(oracle.num_archs)))


class _Quitter(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query(0)


@pytest.mark.parametrize("cls,match", [
    (_PeeksAtTest, "no attribute 'bench'"),
    (_PeeksThroughInternals, "read cifar100/test_acc while searching"),
    (_PeeksAtTheFile, "read cifar100/test_acc while searching"),
    (_ResetsUsage, "tampered with .usage says"),
    (_SwapsBudget, "tampered with .budget queries=2000"),
    (_ForgesValues, "tampered with .arch \\d+ recorded as 100.0"),
    (_SetsAttributes, "cannot change its oracle"),
    (_FloatIds, "arch ids are integers .* passed 2.7 .float"),
    (_StringIds, "arch ids are integers .* passed '3' .str"),
    (_Exits, "called sys.exit.0."),
    (_Loops, "exceeded its time limit"),
    (_GlobalRng, "not deterministic"),
    (_Quitter, "without exhausting")])
def test_conformance_catches_violations(cls, match, nb201):
    with pytest.raises(MethodError, match=match):
        check_method(cls, nb201, "cifar100", minutes=0.05)


def test_a_cheating_plugin_stores_no_row(nb201, tmp_path, monkeypatch):
    """Through the engine: the cheaters' cells fail with their reason, the honest one runs."""
    from harness.core import cellbase
    from harness.core.budget import Budget
    from harness.core.store import open_store
    from harness.run import engine
    from harness.search.cells import Cell

    class Reg:
        base = default_registry()
        extra = {"peek": _PeeksThroughInternals, "reset": _ResetsUsage, "exit": _Exits}

        def get(self, name):
            return self.extra.get(name) or self.base.get(name)

    monkeypatch.setitem(cellbase._WORKER_BENCH, "nb201", nb201)
    store = open_store(tmp_path / "s.sqlite")
    cells = [Cell(m, "nb201", "cifar100", 0, Budget(queries=20), 1, minutes=0.2)
             for m in ("peek", "reset", "exit", "random")]
    summary = engine.execute(cells, store, Reg(), progress=False)
    assert [r["method"] for r in store.rows()] == ["random"]
    assert summary.ran == 1 and len(summary.failed) == 3
    text = "\n".join(summary.failed)
    assert "read cifar100/test_acc" in text and "tampered" in text and "sys.exit" in text
