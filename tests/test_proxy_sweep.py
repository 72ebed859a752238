"""The proxy sweep: one cached, resumable, time-boxed pass over every proxy cell's sample,
balanced over (benchmark, dataset); partial cells are stored under their own key and the
leaderboard keeps the row on the most archs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from harness.core import cellbase
from harness.core.registry import default_registry
from harness.core.store import open_store
from harness.proxies import cells as proxy_runner
from harness.proxies import sweep as proxy_sweep
from harness.proxies.cells import ProxyCell, sample_order
from harness.proxies.scoring import ScoreCache, score_archs
from harness.proxies.sweep import CHUNK_ARCHS
from harness.run import engine as runner
from harness.run.profile import load_profile
from harness.run.sweeping import sweep

CHEAP = ("params", "l2_norm", "synflow")  # fast on CPU; synflow and l2_norm build networks


def _cells(sizes: dict[str, int], names=CHEAP, batch=8) -> list[ProxyCell]:
    return [ProxyCell(n, "nb201", ds, 0, k, batch, "cpu", 7) for ds, k in sizes.items()
            for n in names]


@pytest.fixture()
def ticking(monkeypatch):
    """A clock that advances one unit per reading, so a deadline allows a known number of
    chunks (the sweep reads it once at the start and once before each chunk but the
    first)."""
    clock = itertools.count()
    monkeypatch.setattr(proxy_sweep.time, "monotonic", lambda: float(next(clock)))


def test_time_box_advances_every_dataset_in_proportion_then_resumes(nb201, tmp_path, ticking):
    reg = default_registry()
    cache = ScoreCache(tmp_path / "s.sqlite")
    cells = _cells({"cifar10": 12, "ImageNet16-120": 24})
    rep = sweep(cells, lambda _b: nb201, reg, cache, deadline=8.5, chunk=1)
    got = {k[1]: v for k, v in rep.progress.items()}
    assert rep.stopped_early and rep.scored_now == 9
    assert got == {"cifar10": (3, 12), "ImageNet16-120": (6, 24)}  # equal fractions
    first = {ds: sample_order(nb201, c)[:k] for c in cells[::3]
             for ds, (k, _) in got.items() if c.dataset == ds}
    rep2 = sweep(cells, lambda _b: nb201, reg, cache)  # no box: finishes, reusing the cache
    assert not rep2.stopped_early and rep2.scored_now == 36 - 9
    assert {k[1]: v for k, v in rep2.progress.items()} == {
        "cifar10": (12, 12), "ImageNet16-120": (24, 24)}
    # the first archs of each sample are its random order's prefix, and the scores do not
    # depend on the order they were computed in
    for c in cells[::3]:
        archs = sample_order(nb201, c)
        assert set(first[c.dataset]) <= set(archs)
        fresh = score_archs(reg.get("synflow"), "synflow", nb201, c.dataset, np.sort(archs),
                            experiment_seed=7, seed=0, batch_size=8, device="cpu")
        cached = score_archs(reg.get("synflow"), "synflow", nb201, c.dataset, np.sort(archs),
                             experiment_seed=7, seed=0, batch_size=8, device="cpu",
                             cache=cache)
        assert np.array_equal(fresh.scores, cached.scores, equal_nan=True)


def test_the_bar_counts_earlier_archs_as_done_and_its_eta_uses_this_runs_rate(
        nb201, tmp_path, ticking):
    """A resumed sweep starts its bar at the archs scored by earlier runs (tqdm's
    ``initial``: outside the rate), so the ETA is the work left at this run's own rate; the
    bar ends exactly at the total."""
    from tqdm import tqdm

    reg = default_registry()
    cache = ScoreCache(tmp_path / "s.sqlite")
    cells = _cells({"cifar10": 12}, names=("params",))
    first = sweep(cells, lambda _b: nb201, reg, cache, deadline=4.5, chunk=1).scored_now
    assert 0 < first < 12
    bar = tqdm(total=1, disable=False, file=open(tmp_path / "bar.txt", "w"), smoothing=0)
    starts = []
    bar.update = (lambda orig: lambda n=1: (starts.append(bar.n), orig(n)))(bar.update)
    rep = sweep(cells, lambda _b: nb201, reg, cache, bar=bar, chunk=1)
    assert bar.total == 12 and bar.initial == first and rep.scored_now == 12 - first
    assert starts[0] == first and bar.n == 12  # this run's archs on top of the earlier ones
    bar.close()


def test_partial_cells_are_stored_then_superseded(nb201, tmp_path, monkeypatch):
    from harness.report.proxies import latest

    monkeypatch.setitem(cellbase._WORKER_BENCH, "nb201", nb201)
    reg = default_registry()
    store = open_store(tmp_path / "r.sqlite")
    cells = _cells({"cifar10": 24}, names=("params", "synflow"))
    clock = itertools.count()
    monkeypatch.setattr(proxy_sweep.time, "monotonic", lambda: float(next(clock)))
    sweep(cells, lambda _b: nb201, reg, ScoreCache(store.path), deadline=11.5,
          chunk=1)  # 12 archs
    monkeypatch.undo()
    monkeypatch.setitem(cellbase._WORKER_BENCH, "nb201", nb201)
    # a box already over: the run still scores one chunk, then stops
    s1 = runner.execute(cells, store, reg, progress=False, proxy_minutes=1e-9)
    assert s1.partial == 2 and s1.sweep.stopped_early
    n = 12 + CHUNK_ARCHS
    rows = store.rows()
    assert sorted(r["budget"] for r in rows) == [f"archs={n}/24,batch=8,device=cpu"] * 2
    assert all(r["result"]["complete"] is False and r["result"]["archs_scored"] == n
               for r in rows)
    s2 = runner.execute(cells, store, reg, progress=False)  # no time box: completes
    assert s2.partial == 0 and s2.ran == 2 and not s2.sweep.stopped_early
    best = latest(store.rows(), "proxy")
    assert {r["budget"] for r in best.values()} == {"archs=24,batch=8,device=cpu"}
    assert all(r["result"]["archs_scored"] == 24 and r["result"]["complete"]
               for r in best.values())
    s3 = runner.execute(cells, store, reg, progress=False)
    assert s3.skipped == 2 and s3.ran == 0  # complete cells are not recomputed


def test_profile_sizes_per_benchmark_are_validated(tmp_path):
    import json

    from harness.core.errors import ConfigError

    base = {"experiment_seed": 1, "proxies": {"archs": {"nb201": 50}, "benchmarks": {
        "nb201": ["cifar10"], "tnb101-micro": ["class_scene"]}}}
    p = tmp_path / "p.json"
    p.write_text(json.dumps(base))
    with pytest.raises(ConfigError, match=r"'proxies.archs' has no value for \['tnb101-micro'\]"):
        load_profile(str(p))
    base["proxies"]["archs"]["tnb101-micro"] = 20
    for value in (-1, 6):  # a time box is a run option: refused, the option named
        base["proxies"]["minutes"] = value
        p.write_text(json.dumps(base))
        with pytest.raises(ConfigError, match=r"'proxies.minutes' is a wall-clock time box"
                                              r".*--proxy-minutes M"):
            load_profile(str(p))
    del base["proxies"]["minutes"]
    p.write_text(json.dumps(base))
    prof = load_profile(str(p))
    assert proxy_runner.per_benchmark(prof["proxies"], "archs", "tnb101-micro") == 20
    assert proxy_runner.per_benchmark(prof["proxies"], "batch_size", "nb201", 64) == 64


def test_two_worker_processes_score_like_one(nb201, tmp_path):
    """jobs=2: archs scored in two spawned workers (one torch thread each) get the scores
    of the in-process sweep, and the parent learns every score."""
    reg = default_registry()
    cells = _cells({"cifar10": 6}, names=("snip", "synflow", "params"))
    one, two = ScoreCache(tmp_path / "1.sqlite"), ScoreCache(tmp_path / "2.sqlite")
    r1 = sweep(cells, lambda _b: nb201, reg, one)
    r2 = sweep(cells, lambda _b: nb201, reg, two, jobs=2)
    assert r2.jobs == 2 and r2.scored_now == r1.scored_now == 6
    assert r2.progress == r1.progress and not r2.stopped_early
    for name in ("snip", "synflow", "params"):
        key = {"proxy": name, "dataset": "cifar10", "batch_size": 8}
        assert one.get(key) and {a: v for a, (v, _) in one.get(key).items()} == {
            a: v for a, (v, _) in two.get(key).items()}
