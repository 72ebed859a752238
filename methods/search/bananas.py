"""BANANAS: Bayesian optimisation with neural architectures (White, Neiswanger & Savani,
AAAI 2021; reference code: naszilla/bananas, and NASLib's ``Bananas`` optimizer)."""

from __future__ import annotations

import numpy as np

from harness.api import SearchStrategy, SearchView
from methods.search._predictor import MlpEnsemble, one_hot


class Bananas(SearchStrategy):
    """BANANAS: Bayesian optimisation with a neural-network ensemble surrogate.

    As in the paper: 10 random initial archs, then rounds of ``batch`` = 10 queries; each
    round fits an ensemble of 5 feed-forward networks (10 layers of width 20, Adam lr 0.01,
    mean absolute error) to every arch queried so far, proposes candidates by mutating the
    best archs found (the paper's mutation acquisition optimiser) and queries the ``batch``
    candidates with the highest independent-Thompson-sampling draw (a normal with the
    ensemble's mean and standard deviation per candidate).

    Deviations: the surrogate reads the one-hot encoding of the space's own positions (the
    op per edge on NB201, adjacency bits and ops on NB101, per-cell choices on TNB101), not
    the path encoding, because a search method sees the space through its encoding only.
    The ensemble is fitted afresh every round, as in the paper, by ``epochs`` = 40
    full-batch Adam steps (version 1: 200 steps, 1.61 s a 150-query cell against 0.22 s,
    for the same search results: docs/search.md has the measurements,
    tests/test_model_based_search.py pins them), in float64 (``precision`` = 64; version
    2 fitted in float32, whose results depended on the CPU's BLAS kernel:
    tests/test_bananas_kernels.py). ``refit_epochs`` > 0
    warm-starts every round after the first from the previous round's members instead
    (measured: cheaper per step but worse on ImageNet16-120, so not the default).
    """

    version = "3"

    def __init__(self, initial: int = 10, batch: int = 10, candidates: int = 100,
                 parents: int = 10, members: int = 5, layers: int = 10, width: int = 20,
                 epochs: int = 40, lr: float = 0.01, refit_epochs: int = 0,
                 precision: int = 64):
        super().__init__(initial=initial, batch=batch, candidates=candidates, parents=parents,
                         members=members, layers=layers, width=width, epochs=epochs, lr=lr,
                         refit_epochs=refit_epochs, precision=precision)
        self.initial, self.batch, self.candidates = initial, batch, candidates
        self.parents, self.refit_epochs = parents, refit_epochs
        self.model = dict(members=members, layers=layers, width=width, epochs=epochs, lr=lr,
                          precision=precision)

    def _candidates(self, oracle: SearchView, seen: dict[int, float],
                    rng: np.random.Generator) -> np.ndarray:
        """Mutants of the best archs so far (unseen, distinct), topped up at random."""
        ranked = sorted((a for a in seen if np.isfinite(seen[a])), key=lambda a: -seen[a])
        best = ranked[: self.parents] or list(seen)
        out: dict[int, None] = {}
        for i in range(self.candidates * 4):
            if len(out) >= self.candidates:
                break
            child = oracle.mutate(best[i % len(best)], rng)
            if child not in seen:
                out[child] = None
        while len(out) < self.candidates and len(out) + len(seen) < oracle.num_archs:
            a = int(rng.integers(oracle.num_archs))
            if a not in seen:
                out[a] = None
        return np.fromiter(out, dtype=np.int64, count=len(out))

    def _initial(self, oracle: SearchView, rng: np.random.Generator) -> list[int]:
        """The initial design: ``initial`` uniformly random distinct archs."""
        return [int(a) for a in rng.permutation(oracle.num_archs)[: self.initial]]

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        seen: dict[int, float] = {}
        net: MlpEnsemble | None = None
        for arch in self._initial(oracle, rng):
            seen[arch] = oracle.query(arch)
        while not oracle.exhausted():  # (a fit whose proposals cannot be queried is waste)
            archs = np.array([a for a in seen if np.isfinite(seen[a])], dtype=np.int64)
            cands = self._candidates(oracle, seen, rng)
            if not len(cands):
                return  # every arch of the space is seen
            if len(archs) >= 2:
                x, y = one_hot(oracle, archs), np.array([seen[a] for a in archs])
                if net is None or not self.refit_epochs:
                    net = MlpEnsemble(rng, **self.model).fit(x, y)
                else:
                    net.refit(x, y, self.refit_epochs)
                pred = net.predict(one_hot(oracle, cands))
                draw = rng.normal(pred.mean(axis=0), pred.std(axis=0))
            else:  # nothing to learn from yet: a random pick
                draw = rng.random(len(cands))
            for arch in cands[np.argsort(-draw, kind="stable")[: self.batch]]:
                seen[int(arch)] = oracle.query(int(arch))
