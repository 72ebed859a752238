"""The proxy sweep: every arch of every proxy cell's sample scored by every proxy the cells
need (through :mod:`harness.proxy_engine`, one network and shared passes per arch), cached
arch by arch, in one process or in worker processes.

Threads: a small NB201 network gains little from a second OpenMP thread, and with any other
busy process on the machine OpenMP's spin-waiting makes two threads an order of magnitude
slower (see the README's speed table). So every worker scores with ONE torch thread, and
``jobs`` worker processes (one per core) are how the sweep uses a machine's cores: it
degrades to the speed of the cores it gets, never off a cliff.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.proxy import ScoreCache
from harness.proxy_engine import score_arch
from harness.proxy_runner import ProxyCell, _scorer, needed_proxies, sample_order

#: torch threads of a process that scores proxies
PROXY_THREADS = 1


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


def default_proxy_jobs(device: str = "cpu") -> int:
    """One worker per CPU core this process may use (one on a GPU: the device is shared)."""
    import os

    if device != "cpu":
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def set_proxy_threads() -> None:
    """One torch thread in this process (see the module docstring)."""
    import torch

    if torch.get_num_threads() != PROXY_THREADS:
        torch.set_num_threads(PROXY_THREADS)


def sweep(cells: list[ProxyCell], bench_of, registry, cache: ScoreCache, *,
          deadline: float | None = None, bar=None, jobs: int = 1) -> SweepReport:
    """Score every arch of every own (non-published) cell's sample with every proxy the
    cells need, arch by arch and round-robin over (benchmark, dataset, seed), until done or
    until ``deadline`` (``time.monotonic()``); all scores go to the cache at once, so a
    killed or time-boxed sweep resumes where it stopped. With ``jobs`` > 1 the archs are
    scored by that many worker processes (same scores: each arch's are independent of the
    others and of the order)."""
    t0 = time.monotonic()
    groups: dict[tuple, dict[str, Any]] = {}
    failed: dict[tuple, str] = {}
    for c in cells:
        if c.published:
            continue
        g = groups.setdefault(c.group, {"cell": c, "names": []})
        for n in needed_proxies(registry.get(c.method), c.method):
            if n not in g["names"]:
                g["names"].append(n)
    live = []
    for key, g in groups.items():
        c = g["cell"]
        bench = bench_of(c.benchmark)
        try:
            g["scorers"] = [_scorer(registry, n, bench, c, cache) for n in g["names"]]
        except HarnessError as exc:
            failed[key] = str(exc)
            continue
        g["order"], g["ptr"] = sample_order(bench, c), 0
        live.append(g)
    if bar is not None:
        bar.reset(total=sum(len(g["order"]) for g in live))
    set_proxy_threads()
    todo = sum(not _done(g, a) for g in live for a in g["order"])
    jobs = max(1, min(jobs, todo // 2))  # a worker costs a few seconds to start
    pool = _Pool(jobs, str(cache.path)) if jobs > 1 else None
    stopped, n_new = False, 0
    try:
        while True:
            if pool is not None and pool.busy and (not live or stopped or pool.full):
                n_new += pool.collect_one(groups, bar)
                stopped = stopped or (deadline is not None and time.monotonic() > deadline)
                continue
            if stopped or not live:
                break
            # the group with the smallest fraction of its sample done goes next, so every
            # (benchmark, dataset) advances in proportion when a time box ends the sweep
            g = min(live, key=lambda g: g["ptr"] / len(g["order"]))
            order, c = g["order"], g["cell"]
            a = int(order[g["ptr"]])
            g["ptr"] += 1
            if g["ptr"] == len(order):
                live.remove(g)
            if _done(g, a):
                if bar is not None:
                    bar.update(1)
                continue
            if bar is not None:
                bar.set_postfix_str(f"{c.benchmark}/{c.dataset} arch {g['ptr']}/"
                                    f"{len(order)}", refresh=False)
            if pool is not None:
                pool.submit(c.group, c, g["names"], a)
                continue
            score_arch(g["scorers"], a)  # every proxy at once, sharing passes
            n_new += 1
            if bar is not None:
                bar.update(1)
            stopped = deadline is not None and time.monotonic() > deadline
    finally:
        if pool is not None:
            pool.close()
    progress, given_up = {}, {}
    for key, g in groups.items():
        if "order" in g:
            done = sum(_done(g, a) for a in g["order"])
            progress[key] = (int(done), len(g["order"]))
            given_up.update({(key, s.key["proxy"]): s.failed for s in g["scorers"]
                             if s.failed})
    return SweepReport(progress, failed, time.monotonic() - t0, stopped, n_new, jobs,
                       given_up)


def _done(group: dict, arch: int) -> bool:
    """Every proxy of the group has scored ``arch`` or was given up on."""
    return all(s.cached(arch) or s.failed for s in group["scorers"])


class _Pool:
    """``jobs`` spawned worker processes scoring one arch per task (at most two tasks in
    flight per worker); results flow back into the parent's scorers."""

    def __init__(self, jobs: int, cache_path: str):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        from harness import config

        root = config.data_root()
        self.ex = ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                                      initializer=_worker_init,
                                      initargs=(str(root) if root else None,))
        self.cache_path, self.jobs = cache_path, jobs
        self.inflight: dict[Any, tuple] = {}

    @property
    def busy(self) -> bool:
        return bool(self.inflight)

    @property
    def full(self) -> bool:
        return len(self.inflight) >= 2 * self.jobs

    def submit(self, key: tuple, cell: ProxyCell, names: list[str], arch: int) -> None:
        fut = self.ex.submit(_worker_score, cell, names, self.cache_path, arch)
        self.inflight[fut] = (key, arch)

    def collect_one(self, groups: dict, bar) -> int:
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(list(self.inflight), return_when=FIRST_COMPLETED)
        for fut in done:
            key, arch = self.inflight.pop(fut)
            got, gave_up = fut.result()  # a harness error or a bug surfaces here
            for s in groups[key]["scorers"]:
                if s.key["proxy"] in got:
                    s.have[arch] = got[s.key["proxy"]]
                s.failed = s.failed or gave_up.get(s.key["proxy"])
            if bar is not None:
                bar.update(1)
        return len(done)

    def close(self) -> None:
        for fut in self.inflight:
            fut.cancel()
        self.ex.shutdown(wait=True, cancel_futures=True)


_WORKER_SCORERS: dict[tuple, list] = {}


def _worker_init(data_root: str | None) -> None:
    from harness import config

    if data_root:
        config.set_data_root(data_root)
    set_proxy_threads()


def _worker_score(cell: ProxyCell, names: list[str], cache_path: str, arch: int) -> dict:
    """In a worker: score ``arch`` for ``cell``'s group (scorers kept per group)."""
    from harness.cellbase import _get_bench
    from harness.registry import default_registry

    key = (cell.group, tuple(names))
    if key not in _WORKER_SCORERS:
        cache = ScoreCache(cache_path)
        reg = default_registry()
        bench = _get_bench(cell.benchmark)
        _WORKER_SCORERS[key] = [_scorer(reg, n, bench, cell, cache) for n in names]
    scorers = _WORKER_SCORERS[key]
    score_arch(scorers, arch)
    return ({s.key["proxy"]: s.have[arch] for s in scorers if arch in s.have},
            {s.key["proxy"]: s.failed for s in scorers if s.failed})
