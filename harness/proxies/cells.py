"""Proxy cells: score a stratified arch sample, correlate with the table, cross-check the
published scores, fit/evaluate ensembles on disjoint archs, and regenerate the published
Table 3 from NAS-Bench-Suite-Zero's scores."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from harness.api import Proxy, ProxyEnsemble
from harness.core import config
from harness.core.cellbase import _now, provenance
from harness.core.correlation import correlations, rank_normalise
from harness.core.seeds import cell_seed_sequence, generator
from harness.core.timelimit import DEFAULT_CELL_MINUTES
from harness.proxies.scoring import (
    ArchScorer,
    ScoreCache,
    published_scores,
    score_archs,
    stratified_archs,
)


@dataclass(frozen=True)
class ProxyCell:
    method: str
    benchmark: str
    dataset: str
    seed: int
    archs: int
    batch_size: int
    device: str
    experiment_seed: int
    published: bool = False  # True: correlate NAS-Bench-Suite-Zero's scores, not ours
    #: archs of the sample scored so far when a time-boxed sweep stopped early (None: all)
    scored: int | None = None
    #: wall-clock limit of one proxy on one arch, in minutes (not part of the key)
    minutes: float | None = DEFAULT_CELL_MINUTES

    @property
    def budget_key(self) -> str:
        if self.published:
            return "published"
        n = self.archs if self.scored is None else f"{self.scored}/{self.archs}"
        return f"archs={n},batch={self.batch_size},device={self.device}"

    @property
    def group(self) -> tuple:
        """Cells that share a sample, a minibatch and network initialisations."""
        return (self.benchmark, self.dataset, self.seed, self.archs, self.batch_size,
                self.device, self.experiment_seed)

    def key(self, method_version: str, data_sha: str) -> tuple:
        return (self.method, method_version, self.benchmark, data_sha, self.dataset,
                self.seed, self.budget_key)


def _accuracies(bench, dataset: str, archs: np.ndarray) -> dict[str, np.ndarray]:
    proto = bench.protocol(dataset)
    out = {"test": bench.query(archs, proto["report_metric"], proto["report_dataset"])}
    out["valid"] = bench.query(archs, proto["search_metric"], proto["search_dataset"])
    return out


def _row(cell: ProxyCell, cls, bench, result: dict, started: str, wall: float) -> dict:
    proto = bench.protocol(cell.dataset)
    return {"method": cell.method, "method_version": cls.version,
            "kind": "proxy-published" if cell.published else "proxy",
            "benchmark": cell.benchmark, "data_sha256": bench.content_sha256,
            "dataset": cell.dataset, "seed": cell.seed, "budget": cell.budget_key,
            "search_on": f"{proto['search_dataset']}/{proto['search_metric']}",
            "report_on": f"{proto['report_dataset']}/{proto['report_metric']}",
            "note": result.get("images", ""),
            "search_value": result["valid"].get("spearman"),
            "test_value": result["test"].get("spearman"),
            "queries_used": result["test"].get("n"), "wall_seconds": wall,
            "config": {"batch_size": cell.batch_size, "archs": cell.archs,
                       "device": cell.device},
            "result": result, **provenance(cell.device), "started": started,
            "finished": _now()}


def member_features(registry, names, bench, cell: ProxyCell, archs, cache) -> np.ndarray:
    cols = []
    for n in names:
        sw = score_archs(registry.get(n), n, bench, cell.dataset, archs,
                         experiment_seed=cell.experiment_seed, seed=cell.seed,
                         batch_size=cell.batch_size, device=cell.device, cache=cache)
        cols.append(rank_normalise(sw.scores))
    return np.stack(cols, axis=1)


def _ensemble_result(cls, feats: np.ndarray, archs: np.ndarray, acc: dict, cell: ProxyCell,
                     boot: np.random.Generator, n_boot: int = 1000) -> dict[str, Any]:
    """Fit a (fitted) ensemble on a random half of the archs and evaluate it on the rest;
    unfitted ensembles are evaluated on every arch."""
    split = generator(cell_seed_sequence(cell.experiment_seed, "ensemble-split",
                                         cell.benchmark, cell.dataset, cell.seed))
    fit = np.zeros(len(archs), bool)
    if cls.fitted:
        fit[split.permutation(len(archs))[: len(archs) // 2]] = True
    scores = cls()._combine(feats, fit, acc["valid"][fit], split)
    ev = ~fit
    return {"fitted_on": int(fit.sum()), "evaluated_on": int(ev.sum()),
            "test": correlations(scores[ev], acc["test"][ev], boot, n_boot=n_boot),
            "valid": correlations(scores[ev], acc["valid"][ev], boot, n_boot=n_boot),
            "ranks": {"archs": archs[ev].tolist(),
                      "score": rank_normalise(scores[ev]).round(5).tolist(),
                      "acc": acc["test"][ev].round(4).tolist()}}


def sample_order(bench, cell: ProxyCell) -> np.ndarray:
    """The cell's arch sample (stratified over accuracy) in the order a sweep scores it: a
    random permutation, so the archs scored before a time box ends are a random subsample
    of the stratified sample."""
    stream = cell_seed_sequence(cell.experiment_seed, "archs", cell.benchmark, cell.dataset,
                                cell.seed)
    archs = stratified_archs(bench, cell.dataset, cell.archs, stream)
    perm = generator(cell_seed_sequence(cell.experiment_seed, "sweep-order", cell.benchmark,
                                        cell.dataset, cell.seed)).permutation(len(archs))
    return archs[perm]


def _scorer(registry, name: str, bench, cell: ProxyCell, cache) -> ArchScorer:
    scorer = ArchScorer(registry.get(name), name, bench, cell.dataset,
                        experiment_seed=cell.experiment_seed, seed=cell.seed,
                        batch_size=cell.batch_size, device=cell.device, cache=cache)
    scorer.minutes = cell.minutes
    return scorer


def needed_proxies(cls, name: str) -> list[str]:
    return list(cls.members) if issubclass(cls, ProxyEnsemble) else [name]


def _scored_sample(cell: ProxyCell, bench, registry, cache) -> tuple[np.ndarray, int]:
    """(archs of the cell's sample that every proxy it needs has scored, sample size)."""
    scorers = [_scorer(registry, n, bench, cell, cache)
               for n in needed_proxies(registry.get(cell.method), cell.method)]
    order = sample_order(bench, cell)
    done = [a for a in order if all(s.cached(a) for s in scorers)]
    return np.array(done, dtype=np.int64), len(order)


def scored_cell(cell: ProxyCell, bench, registry, cache) -> ProxyCell:
    """``cell`` with ``scored`` set when only part of its sample has cached scores."""
    if cell.published:
        return cell
    done, target = _scored_sample(cell, bench, registry, cache)
    return cell if len(done) == target else replace(cell, scored=len(done))


def run_proxy_cell(cls, cell: ProxyCell, bench, registry, cache: ScoreCache,
                   progress=None) -> dict[str, Any]:
    """One proxy (or ensemble) on one dataset and seed -> a result row. With
    ``cell.scored`` set, it is evaluated on the archs of its sample already scored."""
    started, t0 = _now(), time.perf_counter()
    boot = generator(cell_seed_sequence(cell.experiment_seed, f"bootstrap:{cell.method}",
                                        cell.benchmark, cell.dataset, cell.seed))
    if cell.published:
        return _published_cell(cls, cell, bench, registry, boot, started, t0)
    if cell.scored is None:
        archs = sample_order(bench, cell)
        target = len(archs)
    else:
        archs, target = _scored_sample(cell, bench, registry, cache)
    archs = np.sort(archs)
    acc = _accuracies(bench, cell.dataset, archs)
    result: dict[str, Any] = {"archs_sampled": target, "archs_scored": len(archs),
                              "complete": len(archs) == target,
                              "sampling": "stratified by reported accuracy"}
    if issubclass(cls, ProxyEnsemble):
        feats = member_features(registry, cls.members, bench, cell, archs, cache)
        result.update(_ensemble_result(cls, feats, archs, acc, cell, boot),
                      members=list(cls.members), median_seconds=None)
        result["images"] = _images_note(bench, cell.dataset, cls.members, registry)
        return _row(cell, cls, bench, result, started, time.perf_counter() - t0)
    sw = score_archs(cls, cell.method, bench, cell.dataset, archs,
                     experiment_seed=cell.experiment_seed, seed=cell.seed,
                     batch_size=cell.batch_size, device=cell.device, cache=cache,
                     progress=progress)
    result["test"] = correlations(sw.scores, acc["test"], boot)
    result["valid"] = correlations(sw.scores, acc["valid"], boot)
    result["median_seconds"] = float(np.median(sw.seconds))
    result["ranks"] = {"archs": archs.tolist(),
                       "score": rank_normalise(sw.scores).round(5).tolist(),
                       "acc": acc["test"].round(4).tolist()}
    result["images"] = _images_note(bench, cell.dataset, [cell.method], registry)
    pub = available_published(bench, cell.dataset)
    if cell.method in pub:
        theirs = pub[cell.method]
        common = [i for i, a in enumerate(archs) if int(a) in theirs]
        if len(common) >= 3:
            ours_v = sw.scores[common]
            their_v = np.array([theirs[int(archs[i])] for i in common])
            agree = correlations(ours_v, their_v, boot, n_boot=200)
            agree["exact"] = bool(np.allclose(_units(cell.method, ours_v), their_v,
                                              rtol=1e-5, atol=1e-6))
            result["agreement"] = agree
            # like for like: ours and the published scores on the identical archs
            shared_acc = acc["test"][common]
            result["shared"] = {"n": len(common),
                                "ours": correlations(ours_v, shared_acc, boot, n_boot=300),
                                "published": correlations(their_v, shared_acc, boot,
                                                          n_boot=300)}
    return _row(cell, cls, bench, result, started, time.perf_counter() - t0)


def _images_note(bench, dataset: str, names, registry) -> str:
    """Which images the scores saw, for the table's caption."""
    from adapters.images import images_for

    if any(registry.get(n).needs_images for n in names):
        return images_for(dataset, benchmark=bench.name).describe
    if any(registry.get(n).needs_model for n in names):
        return "data-free (all-ones or Gaussian inputs)"
    return ""


def _units(name: str, v: np.ndarray) -> np.ndarray:
    return v / 1e6 if name == "params" else v  # the published params are in millions


def _published_cell(cls, cell: ProxyCell, bench, registry, boot, started, t0) -> dict:
    root = config.data_root()
    pub = available_published(bench, cell.dataset)
    if not pub:
        from harness.core.errors import DataMissingError

        raise DataMissingError(f"no published proxy scores for {cell.dataset} under {root}")
    if issubclass(cls, ProxyEnsemble):
        members = [m for m in cls.members if m in pub]
        archs = np.array(sorted(set.intersection(*(set(pub[m]) for m in members))))
        feats = np.stack([rank_normalise(np.array([pub[m][a] for a in archs]))
                          for m in members], axis=1)
        acc = _accuracies(bench, cell.dataset, archs)
        result = {"members": members,
                  **_ensemble_result(cls, feats, archs, acc, cell, boot, n_boot=300)}
    else:
        if cell.method not in pub:
            from harness.core.errors import DataMissingError

            raise DataMissingError(f"{cell.method} has no published scores")
        archs = np.array(sorted(pub[cell.method]))
        scores = np.array([pub[cell.method][a] for a in archs])
        acc = _accuracies(bench, cell.dataset, archs)
        result = {"test": correlations(scores, acc["test"], boot, n_boot=300),
                  "valid": correlations(scores, acc["valid"], boot, n_boot=300),
                  "ranks": {"archs": archs.tolist(),
                            "score": rank_normalise(scores).round(5).tolist(),
                            "acc": acc["test"].round(4).tolist()}}
    result["images"] = "published scores (NAS-Bench-Suite-Zero, computed by its authors)"
    result["median_seconds"] = None
    return _row(cell, cls, bench, result, started, time.perf_counter() - t0)


_PUBLISHED_CACHE: dict[tuple[str, str, str], dict] = {}


def available_published(bench, dataset: str) -> dict:
    """Published scores of ``dataset`` from the data root ({} if none); read once per
    (benchmark data, dataset) and cached, since every proxy cell consults them."""
    key = (bench.name, bench.content_sha256, dataset)
    if key not in _PUBLISHED_CACHE:
        root = config.data_root()
        pub = published_scores(bench, dataset, root) if root is not None else None
        _PUBLISHED_CACHE[key] = pub or {}
    return _PUBLISHED_CACHE[key]


def per_benchmark(sec: dict, key: str, benchmark: str, default: int | None = None) -> int:
    """A setting of a profile's proxy section (``archs``, ``batch_size``) for
    ``benchmark``: one int for every benchmark, or {benchmark: int}."""
    n = sec.get(key, default)
    return int(n[benchmark]) if isinstance(n, dict) else int(n)


def plan_proxy_cells(profile: dict, methods: dict[str, type], *, benchmarks=None,
                     datasets=None, seeds=None, device: str = "cpu", warn=None
                     ) -> list[ProxyCell]:
    """Proxy cells of a profile: ours (every proxy and ensemble that can run on the
    benchmark here; the others are reported once through ``warn``) and the published ones."""
    from harness.proxies.scoring import unavailable

    sec = profile.get("proxies")
    cells: list[ProxyCell] = []
    if not sec:
        return cells
    proxies = {n: c for n, c in methods.items() if issubclass(c, Proxy)}
    ensembles = {n: c for n, c in methods.items() if issubclass(c, ProxyEnsemble)}
    from harness.core.cellbase import _get_bench, selected
    from harness.proxies.scoring import PUBLISHED_NAME

    pairs = [(b, d, True) for b, d in selected(sec, benchmarks, datasets)]
    pairs += [(b, d, False) for b, d in selected(
        {"benchmarks": sec.get("published_only", {})}, benchmarks, datasets)]
    skipped: dict[str, list[str]] = {}
    for bname, ds, ours in pairs:
        bench = _get_bench(bname) if ours else None
        why = {n: unavailable(c, bench, ds) for n, c in proxies.items()} if ours else {}
        for group in (proxies, ensembles) if ours else ():  # ensembles last (cached scores)
            for name, cls in group.items():
                reason = why.get(name) or next(
                    (f"member {m}: {why[m]}" for m in getattr(cls, "members", ())
                     if why.get(m)), None)
                if reason:
                    skipped.setdefault(reason, []).append(f"{name} on {bname}/{ds}")
                    continue
                for s in range(seeds if seeds is not None else sec.get("seeds", 1)):
                    cells.append(ProxyCell(name, bname, ds, s,
                                           per_benchmark(sec, "archs", bname),
                                           per_benchmark(sec, "batch_size", bname, 64), device,
                                           profile["experiment_seed"]))
        pub = (available_published(_get_bench(bname), ds) if sec.get("published", True)
               else {})
        if pub:
            for name in (*[p for p in proxies if p in PUBLISHED_NAME and p in pub],
                         *[e for e, c in ensembles.items()
                           if sum(m in pub for m in c.members) >= 2]):
                cells.append(ProxyCell(name, bname, ds, 0, 0, 0, "none",
                                       profile["experiment_seed"], published=True))
    if warn is not None:
        for reason, what in skipped.items():
            warn(f"not run ({len(what)} cells, e.g. {what[0]}): {reason}")
    return cells
