"""Method interfaces: one small ABC per kind (template method).

The public entry points belong to the harness (``harness.run.engine``): they validate inputs,
build the oracle, the RNG stream and the budget, charge the budget, read test metrics and
record results. A method implements one protected hook.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from harness.core.view import SearchView


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
    early). The harness turns the oracle's history into the incumbent and trajectories. The
    oracle is a :class:`~harness.core.view.SearchView`: the search space and the search
    metric only; reading any other metric while searching, passing a non-integer arch id or
    tampering with the oracle fails the cell.
    """

    kind = "search"
    #: True for training-free searches (NASWOT): planned only under the profile's
    #: ``search.training_free`` budgets, whose oracle answers ``score(arch)`` from a table
    training_free: ClassVar[bool] = False
    #: True for hardware-aware searches: planned only under ``search.hardware``, whose
    #: oracle answers ``cost(arch)`` (a device's latency or energy) and ``cost_limit``
    hardware_aware: ClassVar[bool] = False
    #: the plain strategy this one warm-starts from a proxy-scored pool (e.g. "rea"):
    #: planned only under ``search.warm_start`` budgets (``scored`` archs of a score table
    #: before ``queries`` trained ones) and compared with that strategy's cold starts
    warm_start_of: ClassVar[str | None] = None

    @abstractmethod
    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
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
    #: True for proxies that are undefined on networks whose output does not depend on the
    #: input (a cell with no input-to-output path): the harness scores such archs -inf, the
    #: worst possible value, so they are ranked last instead of dropped, without calling
    #: :meth:`_score`. NaN is then left for real numerical failures.
    undefined_on_disconnected: ClassVar[bool] = False
    #: a pass of :mod:`harness.proxies.passes` the harness may run once for several proxies on
    #: the same network and minibatch ("backward": cross-entropy forward+backward;
    #: "jacobian": a forward with an input gradient). A proxy naming one implements
    #: :meth:`_observe` and :meth:`_collect` instead of :meth:`_score`.
    shared_pass: ClassVar[str | None] = None
    #: True when :meth:`_collect` differentiates through the pass's gradients (grasp): the
    #: pass then keeps their graph (``create_graph``)
    pass_needs_graph: ClassVar[bool] = False
    #: True (the safe default for plugins) when scoring may change the network beyond its
    #: gradients and BN running statistics (weights, dtype, modules), or reads those
    #: statistics: the engine then gives the proxy its own copy of the freshly initialised
    #: network. False lets it share the network (proxies with a shared pass must not mutate)
    mutates_model: ClassVar[bool] = True

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.shared_pass is not None and (cls._observe is Proxy._observe
                                             or cls._collect is Proxy._collect):
            raise TypeError(f"{cls.__name__}: a proxy with shared_pass implements _observe "
                            "and _collect")

    def _score(self, ctx: Any) -> float:
        """Score one architecture; ``ctx`` is a :class:`harness.proxies.scoring.ProxyContext`.
        Override it, or declare :attr:`shared_pass` (then the pass runs here, alone)."""
        if self.shared_pass is None:
            raise TypeError(f"{type(self).__name__} implements neither _score nor "
                            "shared_pass + _observe/_collect")
        from harness.proxies.passes import run_pass

        observed = self._observe(ctx)
        try:
            return self._collect(ctx, observed, run_pass(
                self.shared_pass, ctx, create_graph=self.pass_needs_graph))
        finally:
            if self.pass_needs_graph:
                ctx.model.zero_grad(set_to_none=True)  # grads that reference the graph

    def _observe(self, ctx: Any) -> Any:
        """Before the shared pass: register hooks on ``ctx.model``; return what
        :meth:`_collect` needs (it removes the hooks)."""
        raise NotImplementedError

    def _collect(self, ctx: Any, observed: Any, outcome: Any) -> float:
        """After the shared pass (``outcome``: what the pass returned): the score."""
        raise NotImplementedError


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


class OneShotMethod(Method):
    """A differentiable or weight-sharing (one-shot) search over a benchmark's supernet.

    The harness (:mod:`harness.oneshot.cells`) owns everything that must be identical for every
    method: the data split, augmentation and batch order, the supernet and its
    initialisation, the weights' SGD optimiser and learning-rate schedule, epochs, the
    wall-clock cap, checkpoints, per-epoch logging, and the table lookups of the derived cell
    (never shown to the method). A method implements three hooks; ``ctx`` is a
    :class:`harness.oneshot.context.OneShotContext`.
    """

    kind = "oneshot"
    benchmarks = ("nb201",)
    #: BN of the supernet's cell ops tracks running statistics (True for supernets whose
    #: inherited-weight accuracy is measured with recalibrated BN, as SPOS/FairNAS do; the
    #: NB201 reference DARTS/GDAS/RSPS searches use batch statistics only)
    track_running_stats: ClassVar[bool] = False
    #: overrides of the harness's weight optimiser defaults (lr, lr_min, momentum,
    #: weight_decay, nesterov, grad_clip), e.g. DrNAS trains with weight decay 3e-4
    weight_optimiser: ClassVar[dict[str, Any]] = {}
    #: epochs of the paper configuration (the method's own NB201 reference setting)
    paper_epochs: ClassVar[int] = 50
    #: supernet options the method needs, e.g. {"partial_channels": 4} for PC-DARTS
    supernet_options: ClassVar[dict[str, Any]] = {}

    @abstractmethod
    def _setup(self, ctx: Any) -> None:
        """Create the method's state (architecture parameters, their optimiser ...) in
        ``ctx.state``; the harness checkpoints it with the supernet every epoch."""

    @abstractmethod
    def _step(self, ctx: Any, train: tuple[Any, Any], valid: tuple[Any, Any]) -> dict:
        """One search step on a training batch (for the weights) and a batch of the other
        pool (for the architecture); return {"loss": ..., "acc": ...} of the supernet on
        the training batch (use ``ctx.train_weights`` for the weight update), numbers or
        0-dim tensors (a tensor is read once per epoch on a GPU, so the step does not wait
        for the device)."""

    @abstractmethod
    def _derive(self, ctx: Any) -> tuple[int, ...]:
        """The final cell: one op index per edge (OPS order)."""

    def _epoch_begin(self, ctx: Any) -> None:
        """Per-epoch schedules (e.g. GDAS's temperature); ``ctx.epoch`` is set."""

    def _arch_weights(self, ctx: Any) -> np.ndarray | None:
        """The architecture distribution to log, (edges, ops): softmax, sigmoid or
        Dirichlet mean as the method defines it; None for methods without one."""
        return None
