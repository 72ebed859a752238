"""BOHB (Falkner, Klein & Hutter, ICML 2018): Hyperband whose brackets start from a
TPE-style kernel density model instead of uniform samples."""

from __future__ import annotations

import numpy as np

from harness.api import SearchView
from methods.search.hyperband import Hyperband, _unseen_random


class Bohb(Hyperband):
    """BOHB: Hyperband whose brackets start from a kernel-density (TPE-style) model.

    Hyperband's schedule (``eta`` 3); a bracket's archs come from the model fitted on the
    highest level with enough observations, as in BOHB.

    The model, as in the paper: the best ``gamma`` = 15 % of that level's observations form
    the "good" density l(x), the rest the "bad" density g(x); a third of the archs
    (``random_fraction``) are still drawn uniformly; each other arch is the best of
    ``candidates`` = 64 draws from l widened by ``bandwidth_factor`` = 3 by the ratio
    l(x)/g(x). The model exists once a level has ``positions + 1`` observations. Every
    position of the space's encoding is a categorical variable with an Aitchison-Aitken
    kernel.

    Deviation: the kernel's bandwidth is a fixed ``bandwidth`` (0.2: the probability mass
    a kernel moves off its own category), not statsmodels' normal-reference estimate;
    draws that are not an arch of the space (TNB101 macro gaps) are skipped.
    """

    version = "1"

    def __init__(self, eta: int = 3, width: int = 3, gamma: float = 0.15,
                 random_fraction: float = 1 / 3, candidates: int = 64,
                 bandwidth: float = 0.2, bandwidth_factor: float = 3.0):
        super().__init__(eta=eta, width=width)
        self.hyperparameters.update(gamma=gamma, random_fraction=random_fraction,
                                    candidates=candidates, bandwidth=bandwidth,
                                    bandwidth_factor=bandwidth_factor)
        self.gamma, self.random_fraction = gamma, random_fraction
        self.candidates, self.bandwidth = candidates, bandwidth
        self.bandwidth_factor = bandwidth_factor

    def _propose(self, oracle: SearchView, history: dict[str, dict[int, float]], n: int,
                 level: str, rng: np.random.Generator) -> list[int]:
        seen = history[level]
        model = self._model(oracle, history)
        out: dict[int, None] = {}
        for _ in range(n):
            arch = None
            if model is not None and rng.random() >= self.random_fraction:
                arch = self._from_model(oracle, model, seen, out, rng)
            if arch is None:
                picks = _unseen_random(oracle, {**seen, **out}, 1, rng)
                arch = picks[0] if picks else None
            if arch is None:
                break
            out[arch] = None
        return list(out)

    def _model(self, oracle: SearchView, history: dict[str, dict[int, float]]):
        """(good encodings, bad encodings) of the highest level with enough observations."""
        positions = oracle.num_edges
        for level in reversed(list(history)):
            obs = {a: v for a, v in history[level].items() if np.isfinite(v)}
            if len(obs) < positions + 1:
                continue
            archs = sorted(obs, key=lambda a: -obs[a])
            n_good = max(1, int(np.ceil(self.gamma * len(archs))))
            enc = oracle.encode(archs)
            return enc[:n_good], enc[n_good:]
        return None

    def _density(self, x: np.ndarray, points: np.ndarray, k: int) -> np.ndarray:
        """The mean product-kernel density of each row of ``x`` under ``points``."""
        if not len(points):
            return np.ones(len(x))
        lam = self.bandwidth
        same = x[:, None, :] == points[None, :, :]
        return np.where(same, 1 - lam, lam / (k - 1)).prod(axis=2).mean(axis=1)

    def _from_model(self, oracle: SearchView, model, seen, taken,
                    rng: np.random.Generator) -> int | None:
        good, bad = model
        k = oracle.num_ops
        # redraw a position uniformly with the probability that moves it off its category
        # with mass bandwidth * bandwidth_factor
        redraw = min(1.0, self.bandwidth * self.bandwidth_factor * k / (k - 1))
        base = good[rng.integers(len(good), size=self.candidates)]
        move = rng.random(base.shape) < redraw
        draws = np.where(move, rng.integers(k, size=base.shape), base)
        score = self._density(draws, good, k) / np.maximum(self._density(draws, bad, k),
                                                           1e-300)
        for i in np.argsort(-score, kind="stable"):
            arch = oracle.index_of_encoding(draws[i])
            if arch is not None and arch not in seen and arch not in taken:
                return int(arch)
        return None
