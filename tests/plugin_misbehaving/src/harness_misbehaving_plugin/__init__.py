"""Search plugins written against harness.api that misbehave once they run."""

import sys

import numpy as np

from harness.api import SearchStrategy


class ExitsMidRun(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query(0)
        sys.exit(1)


class RaisesMidRun(SearchStrategy):
    def _search(self, oracle, rng):
        oracle.query(0)
        raise IndexError("list index out of range")


class PeeksMidRun(SearchStrategy):
    """Reaches the table through the oracle's closure and reads the test column."""

    def _search(self, oracle, rng):
        inner = oracle.query.__closure__[0].cell_contents.__self__
        test = inner.bench.query(np.arange(oracle.num_archs), "test_acc", "cifar10")
        oracle.query(int(np.nanargmax(test)))
