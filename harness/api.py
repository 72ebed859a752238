"""Method interfaces: one small ABC per kind (template method).

The public entry points belong to the harness (``harness.runner``): they validate inputs,
build the oracle, the RNG stream and the budget, charge the budget, read test metrics and
record results. A method implements one protected hook.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from harness.budget import Oracle


class Method(ABC):  # noqa: B024 - metadata base; each kind adds its hook
    """Common metadata of every registered method."""

    #: kind shown by ``python -m harness list``: search | proxy | differentiable
    kind: ClassVar[str] = "method"
    #: bump when results would change; the leaderboard ignores rows of older versions
    version: ClassVar[str] = "1"
    needs_gpu: ClassVar[bool] = False
    #: benchmarks the method applies to (None = every benchmark)
    benchmarks: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, **hyperparameters: Any) -> None:
        self.hyperparameters = hyperparameters

    def config(self) -> dict[str, Any]:
        """Hyperparameters recorded in every result row."""
        return dict(self.hyperparameters)


class SearchStrategy(Method):
    """A black-box search strategy over a tabular benchmark.

    Implement :meth:`_search`: query the oracle until it raises BudgetExhausted (or return
    early). The harness turns the oracle's history into the incumbent and trajectories.
    """

    kind = "search"

    @abstractmethod
    def _search(self, oracle: Oracle, rng: np.random.Generator) -> None:
        """Spend the oracle's budget; draw every random number from ``rng``."""


class Proxy(Method):
    """A zero-cost proxy: a score of an untrained network (higher = predicted better).

    Implement :meth:`_score`. The harness builds the network with a deterministic
    initialisation, draws the minibatch from the cell's stream (identical for every proxy
    and arch of a seed), times the call and records NaN/inf as missing, never as a number.
    """

    kind = "proxy"
    #: False for proxies computed from the architecture alone (params, flops)
    needs_model: ClassVar[bool] = True
    #: False for data-free proxies (synflow, zen, ...): they run on benchmarks whose images
    #: are not available, e.g. TransNAS-Bench-101 without Taskonomy
    needs_images: ClassVar[bool] = True
    #: a cost the benchmark's table must have (e.g. "flops"), or None
    needs_cost: ClassVar[str | None] = None

    @abstractmethod
    def _score(self, ctx: Any) -> float:
        """Score one architecture; ``ctx`` is a :class:`harness.proxy.ProxyContext`."""


class ProxyEnsemble(Method):
    """Combines member proxies' cached scores; fitted only on archs it is not evaluated on.

    Implement :meth:`_combine`: given rank-normalised member scores for all archs, a boolean
    mask of the archs it may fit on and their accuracies, return a score for every arch.
    """

    kind = "proxy"
    members: ClassVar[tuple[str, ...]] = ()
    #: True if the ensemble fits weights (its correlation is reported on held-out archs)
    fitted: ClassVar[bool] = False

    @abstractmethod
    def _combine(self, features: np.ndarray, fit_mask: np.ndarray, fit_target: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
        """Return one score per row of ``features`` (archs x members)."""
