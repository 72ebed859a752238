"""The proxy sweep: every arch of every proxy cell's sample scored by every proxy the cells
need (through :mod:`harness.proxies.engine`, one network and shared passes per arch), in
chunks -- :class:`ProxyChunk`, a slice of one sample, is a unit like any other cell
(:mod:`harness.core.cell`) -- that any executor runs. :class:`Sweep` plans the chunks
lazily (the group with the smallest share of its sample done goes next, so a time box ends
with every (benchmark, dataset) advanced in proportion) and absorbs their scores into the
score cache in the driver; the run engine (:func:`harness.run.sweeping.sweep`) drives it.

Threads: a small NB201 network gains little from a second OpenMP thread, and with any other
busy process on the machine OpenMP's spin-waiting makes two threads an order of magnitude
slower (see the README's speed table). So every chunk scores with ONE torch thread, and
worker processes (one per core) are how a sweep uses a machine's cores: it degrades to the
speed of the cores it gets, never off a cliff.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness.core.cell import Resources, RunEnv
from harness.core.errors import HarnessError
from harness.proxies.cells import ProxyCell, _scorer, needed_proxies, sample_order
from harness.proxies.engine import score_arch
from harness.proxies.scoring import ScoreCache

#: torch threads of a process that scores proxies
PROXY_THREADS = 1
#: archs per chunk: small enough that a time box stops within seconds, large enough that a
#: Ray task's overhead is a small share of it
CHUNK_ARCHS = 4


@dataclass
class SweepReport:
    """How far a sweep got: {(benchmark, dataset, seed): (scored, target)}, and failures."""

    progress: dict[tuple, tuple[int, int]]
    failed: dict[tuple, str]
    seconds: float
    stopped_early: bool
    scored_now: int = 0  # archs scored by this sweep (the others came from the cache)
    jobs: int = 1
    #: {(group, proxy): why}: proxies given up on (they ran past their time limit)
    failed_proxies: dict[tuple, str] | None = None


def set_proxy_threads() -> None:
    """One torch thread in this process (see the module docstring)."""
    import torch

    if torch.get_num_threads() != PROXY_THREADS:
        torch.set_num_threads(PROXY_THREADS)


# ---- the unit -----------------------------------------------------------------------------
_SCORERS: dict[tuple, list] = {}  # per process: one scorer set per (group, proxies)


@dataclass(frozen=True)
class ProxyChunk:
    """Archs of one group's sample (benchmark, dataset, seed, minibatch, device), scored by
    the group's proxies; ``cell`` stands for the group."""

    cell: ProxyCell
    names: tuple[str, ...]
    archs: tuple[int, ...]

    def label(self) -> str:
        c = self.cell
        return (f"proxy chunk {c.benchmark}/{c.dataset} seed {c.seed} archs "
                f"{self.archs[0]}..{self.archs[-1]}")

    def resources(self) -> Resources:
        cuda = self.cell.device.startswith("cuda")
        return Resources(threads=None if cuda else PROXY_THREADS, gpus=1.0 if cuda else 0.0,
                         memory_mb=1024)

    def resume_point(self) -> str:
        return "its first arch (the driver caches every finished chunk's scores)"

    def run(self, env: RunEnv) -> dict[str, Any]:
        """{"scores": {proxy: {arch: (score, seconds)}}, "gave_up": {proxy: why}}."""
        from harness.core.cellbase import _get_bench

        reg, bench = env.methods(), _get_bench(self.cell.benchmark)
        key = (self.cell.group, self.names, self.cell.minutes, bench.content_sha256, id(reg))
        if key not in _SCORERS:
            if len(_SCORERS) > 64:
                _SCORERS.clear()
            _SCORERS[key] = [_scorer(reg, n, bench, self.cell, None) for n in self.names]
        scorers = _SCORERS[key]
        for a in self.archs:
            score_arch(scorers, a)
        return {"scores": {s.key["proxy"]: {a: s.have[a] for a in self.archs if a in s.have}
                           for s in scorers},
                "gave_up": {s.key["proxy"]: s.failed for s in scorers if s.failed}}


# ---- planning and absorbing chunks (in the driver) ------------------------------------------
class Sweep:
    """The sweep's state in the driver: per group its scorers (reading and writing the score
    cache), its sample order (``orders[group]`` where given, e.g. every arch of a score
    table) and a pointer."""

    def __init__(self, cells: list[ProxyCell], bench_of, registry, cache: ScoreCache,
                 chunk: int = CHUNK_ARCHS, orders: dict[tuple, Any] | None = None):
        self.t0 = time.monotonic()
        _SCORERS.clear()  # chunks run here (inline) start from this sweep's state
        self.cache, self.chunk = cache, max(1, int(chunk))
        self.groups: dict[tuple, dict[str, Any]] = {}
        self.failed: dict[tuple, str] = {}
        self.scored_now = 0
        self.start_done = 0  # archs done before this run that the bar already counts
        for c in cells:
            if c.published:
                continue
            g = self.groups.setdefault(c.group, {"cell": c, "names": []})
            for n in needed_proxies(registry.get(c.method), c.method):
                if n not in g["names"]:
                    g["names"].append(n)
        self.live = []
        for key, g in self.groups.items():
            c = g["cell"]
            try:
                g["scorers"] = [_scorer(registry, n, bench_of(c.benchmark), c, cache)
                                for n in g["names"]]
            except HarnessError as exc:
                self.failed[key] = str(exc)
                continue
            g["order"] = (orders or {}).get(key)
            if g["order"] is None:
                g["order"] = sample_order(bench_of(c.benchmark), c)
            g["ptr"] = 0
            self.live.append(g)

    @property
    def total(self) -> int:
        return sum(len(g["order"]) for g in self.groups.values() if "order" in g)

    def todo(self) -> int:
        return sum(not self._done(g, a) for g in self.live for a in g["order"])

    @staticmethod
    def _done(g: dict, arch: int) -> bool:
        """Every proxy of the group has scored ``arch`` or was given up on."""
        return all(s.cached(arch) or s.failed for s in g["scorers"])

    def chunks(self, bar=None) -> Iterator[ProxyChunk]:
        """The next chunk, planned when asked for (so proxies given up on meanwhile are left
        out); archs already cached advance the bar without a chunk."""
        live = list(self.live)
        while live:
            g = min(live, key=lambda g: g["ptr"] / len(g["order"]))
            order, archs = g["order"], []
            while g["ptr"] < len(order) and len(archs) < self.chunk:
                a = int(order[g["ptr"]])
                g["ptr"] += 1
                if self._done(g, a):
                    if self.start_done:  # counted in the bar's start (done before this run)
                        self.start_done -= 1
                    elif bar is not None:  # done meanwhile (a proxy given up on)
                        bar.update(1)
                else:
                    archs.append(a)
            if g["ptr"] == len(order):
                live.remove(g)
            names = tuple(s.key["proxy"] for s in g["scorers"] if not s.failed)
            if archs and names:
                if bar is not None:
                    c = g["cell"]
                    bar.set_postfix_str(f"{c.benchmark}/{c.dataset} arch {g['ptr']}/"
                                        f"{len(order)}", refresh=False)
                yield ProxyChunk(g["cell"], names, tuple(archs))

    def absorb(self, chunk: ProxyChunk, result: dict, bar=None) -> None:
        """A finished chunk's scores into the driver's scorers and the score cache."""
        g = self.groups[chunk.cell.group]
        for s in g["scorers"]:
            name = s.key["proxy"]
            for a, (score, secs) in result["scores"].get(name, {}).items():
                if int(a) not in s.have:
                    s.have[int(a)] = (score, secs)
                    self.cache.put(s.key, int(a), score, secs)
            s.failed = s.failed or result["gave_up"].get(name)
        self.scored_now += len(chunk.archs)
        if bar is not None:
            bar.update(len(chunk.archs))

    def fail(self, chunk: ProxyChunk, why: str) -> None:
        """A chunk that failed as a whole (e.g. its benchmark cannot load): its group too."""
        self.failed[chunk.cell.group] = why

    def report(self, stopped: bool, jobs: int) -> SweepReport:
        progress, given_up = {}, {}
        for key, g in self.groups.items():
            if "order" in g:
                progress[key] = (int(sum(self._done(g, a) for a in g["order"])),
                                 len(g["order"]))
                given_up.update({(key, s.key["proxy"]): s.failed for s in g["scorers"]
                                 if s.failed})
        return SweepReport(progress, self.failed, time.monotonic() - self.t0, stopped,
                           self.scored_now, jobs, given_up)
