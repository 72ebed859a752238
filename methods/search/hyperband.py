"""Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, JMLR 2018) over the fidelities
a benchmark's oracle exposes."""

from __future__ import annotations

import math

import numpy as np

from harness.api import SearchStrategy, SearchView

#: the full fidelity's name in a level list (queried with ``oracle.query``)
FULL = "full"


class Hyperband(SearchStrategy):
    """Hyperband: rounds of successive-halving brackets over the oracle's fidelities.

    The ladder is the oracle's cheaper fidelities by cost, then the full one (on NB201: the
    12-epoch schedule at 12/200 of a query, then 200 epochs; a benchmark without cheaper
    fidelities has one level and Hyperband is random search in batches). With L levels, a
    round runs brackets s = L-1 .. 0; bracket s starts ``ceil(L / (s + 1) * eta**s) * width``
    archs at level L-1-s and keeps the best ``1/eta`` of them at each level up to the full
    one, Li et al.'s bracket sizes with ``eta`` = 3. Only full-fidelity queries can make the
    incumbent (the harness's rule); cheaper ones only decide what is promoted.

    Deviation: with two levels (NB201) there are two brackets, not log_eta(200/12) + 1; the
    ``width`` factor (3) scales every bracket so that the low rung sees more than a handful
    of archs.
    """

    version = "1"

    def __init__(self, eta: int = 3, width: int = 3):
        super().__init__(eta=eta, width=width)
        self.eta, self.width = eta, width

    # ---- the hook BOHB replaces --------------------------------------------------------------
    def _propose(self, oracle: SearchView, history: dict[str, dict[int, float]], n: int,
                 level: str, rng: np.random.Generator) -> list[int]:
        """``n`` archs to start a bracket with at ``level`` (here: uniformly at random among
        those not yet evaluated at that level)."""
        return _unseen_random(oracle, history[level], n, rng)

    # ---- the schedule -------------------------------------------------------------------------
    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        cheap = sorted(oracle.fidelities().items(), key=lambda kv: kv[1])
        levels = [name for name, _ in cheap] + [FULL]
        history: dict[str, dict[int, float]] = {lv: {} for lv in levels}
        top = len(levels) - 1
        while True:
            progressed = False
            for s in range(top, -1, -1):
                n = math.ceil((top + 1) / (s + 1) * self.eta**s) * self.width
                archs = self._propose(oracle, history, n, levels[top - s], rng)
                progressed |= bool(archs)
                for lv in levels[top - s:]:
                    vals = [_evaluate(oracle, a, lv, history) for a in archs]
                    if lv == FULL:
                        break
                    keep = max(1, math.ceil(len(archs) / self.eta))
                    order = np.argsort(-np.nan_to_num(vals, nan=-np.inf), kind="stable")
                    archs = [archs[i] for i in order[:keep]]
            if not progressed:
                return  # every arch is evaluated at every starting level


def _evaluate(oracle: SearchView, arch: int, level: str,
              history: dict[str, dict[int, float]]) -> float:
    """The search metric of ``arch`` at ``level`` (charged by the oracle), remembered."""
    v = oracle.query(arch) if level == FULL else oracle.query_low(arch, level)
    history[level][arch] = v
    return v


def _unseen_random(oracle: SearchView, seen: dict[int, float], n: int,
                   rng: np.random.Generator) -> list[int]:
    """Up to ``n`` distinct archs drawn uniformly among those not in ``seen``."""
    out: dict[int, None] = {}
    left = oracle.num_archs - len(seen)
    tries = 0
    while len(out) < min(n, left) and tries < 100 * n:
        a = int(rng.integers(oracle.num_archs))
        tries += 1
        if a not in seen:
            out[a] = None
    return list(out)
