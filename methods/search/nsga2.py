"""NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEC 2002) over accuracy and a device
cost: a Pareto-based hardware-aware search."""

from __future__ import annotations

import numpy as np

from harness.api import SearchStrategy, SearchView


def _dominates(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    """Constrained domination on (violation, -accuracy, cost): less violation wins; among
    equally feasible points, Pareto dominance."""
    if a[0] != b[0]:
        return a[0] < b[0]
    return a[1] <= b[1] and a[2] <= b[2] and (a[1] < b[1] or a[2] < b[2])


def _fronts(points: list[tuple[float, float, float]]) -> list[list[int]]:
    """Fast non-dominated sorting: the indices of each successive front."""
    n = len(points)
    beats = [[j for j in range(n) if j != i and _dominates(points[i], points[j])]
             for i in range(n)]
    count = [sum(_dominates(points[j], points[i]) for j in range(n) if j != i)
             for i in range(n)]
    fronts, cur = [], [i for i in range(n) if count[i] == 0]
    while cur:
        fronts.append(cur)
        nxt = []
        for i in cur:
            for j in beats[i]:
                count[j] -= 1
                if count[j] == 0:
                    nxt.append(j)
        cur = sorted(nxt)
    return fronts


def _crowding(points: list[tuple[float, float, float]], front: list[int]) -> dict[int, float]:
    dist = {i: 0.0 for i in front}
    for k in (1, 2):
        order = sorted(front, key=lambda i: points[i][k])
        lo, hi = points[order[0]][k], points[order[-1]][k]
        dist[order[0]] = dist[order[-1]] = np.inf
        if hi > lo:
            for a, b, c in zip(order, order[1:], order[2:], strict=False):
                dist[b] += (points[c][k] - points[a][k]) / (hi - lo)
    return dist


def _binary_tournament(key: list[tuple[float, float]], rng: np.random.Generator) -> int:
    """The better of two random members by (front rank, -crowding distance)."""
    i, j = (int(x) for x in rng.integers(len(key), size=2))
    return i if key[i] <= key[j] else j


class Nsga2(SearchStrategy):
    """NSGA-II over the search metric and a device cost (hardware-aware, multi-objective).

    A population of ``population`` (20) archs; each generation breeds as many
    children by binary tournament on (front rank, crowding distance), uniform crossover of
    the two parents' encodings and a one-edge mutation, queries them, and keeps the best
    ``population`` of parents and children by non-dominated sorting on (search metric,
    device cost) and crowding distance. With a ``cost_limit``, Deb's constrained domination
    (a smaller excess cost wins first). NaN accuracies count as the worst."""

    version = "1"
    hardware_aware = True
    #: the only shipped table with device costs (HW-NAS-Bench)
    benchmarks = ("nb201",)

    def __init__(self, population: int = 20):
        super().__init__(population=population)
        self.population = population

    def _search(self, oracle: SearchView, rng: np.random.Generator) -> None:
        limit = oracle.cost_limit

        def point(a: int) -> tuple[float, float, float]:
            c = oracle.cost(a)
            acc = oracle.query(a)
            over = max(0.0, c - limit) if limit is not None else 0.0
            return (over, -acc if np.isfinite(acc) else np.inf, c)

        pop = [int(a) for a in rng.permutation(oracle.num_archs)[: self.population]]
        pts = {a: point(a) for a in pop}
        while True:
            plist = [pts[a] for a in pop]
            rank, crowd = {}, {}
            for r, fr in enumerate(_fronts(plist)):
                for i, d in _crowding(plist, fr).items():
                    rank[i], crowd[i] = r, d

            key = [(rank[i], -crowd[i]) for i in range(len(pop))]
            children: list[int] = []
            for _ in range(self.population):
                p1, p2 = (pop[_binary_tournament(key, rng)] for _ in range(2))
                e1, e2 = oracle.encode([p1, p2])
                mixed = np.where(rng.random(len(e1)) < 0.5, e1, e2)
                child = oracle.index_of_encoding(mixed)
                child = oracle.mutate(p1 if child is None else int(child), rng)
                if child not in pts:
                    pts[child] = point(child)
                children.append(child)
            union = list(dict.fromkeys(pop + children))
            ulist = [pts[a] for a in union]
            keep: list[int] = []
            for fr in _fronts(ulist):
                if len(keep) + len(fr) <= self.population:
                    keep += fr
                    continue
                d = _crowding(ulist, fr)
                keep += sorted(fr, key=lambda i: -d[i])[: self.population - len(keep)]
                break
            pop = [union[i] for i in keep]
