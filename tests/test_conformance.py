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
        "respects_budget", "deterministic_for_seed", "never_reads_test_metrics",
        "returns_valid_archs"]


class _PeeksAtTest(SearchStrategy):
    def _search(self, oracle, rng):
        test = oracle.bench.query(np.arange(oracle.num_archs), "test_acc", "cifar100")
        oracle.query(int(np.argmax(test)))
        for a in rng.permutation(oracle.num_archs):
            oracle.query(int(a))


class _GlobalRng(SearchStrategy):
    def _search(self, oracle, rng):
        while True:
            oracle.query(int(np.random.randint(oracle.num_archs)))


class _Quitter(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query(0)


@pytest.mark.parametrize("cls,match", [(_PeeksAtTest, "read .*test_acc"),
                                       (_GlobalRng, "not deterministic"),
                                       (_Quitter, "without exhausting")])
def test_conformance_catches_violations(cls, match, nb201):
    with pytest.raises(MethodError, match=match):
        check_method(cls, nb201, "cifar100")
