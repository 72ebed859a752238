"""Rank correlations of proxy (or supernet) scores with benchmark accuracies: Spearman and
Kendall tau-b with percentile-bootstrap intervals, vectorised; rank normalisation.

NaN scores are numerical failures (excluded, counted); -inf scores are archs a proxy is
undefined on (ranked last, counted as ``worst``)."""

from __future__ import annotations

from typing import Any

import numpy as np


def correlations(score: np.ndarray, acc: np.ndarray, rng: np.random.Generator,
                 n_boot: int = 1000) -> dict[str, Any]:
    """Spearman rho and Kendall tau-b with 95% percentile-bootstrap intervals. NaN scores
    (numerical failures) are excluded and counted; -inf scores (archs a proxy is undefined on,
    e.g. disconnected cells) are ranked last and counted as ``worst``. ``n_boot`` resamples
    for rho (vectorised) and for tau up to :data:`KENDALL_VECTOR_MAX` archs; 200 resamples
    for tau on larger samples."""
    from scipy.stats import kendalltau, rankdata, spearmanr

    ok = ~np.isnan(score) & np.isfinite(acc)
    s, a = score[ok], acc[ok]
    out: dict[str, Any] = {"n": int(ok.sum()), "nan": int(np.isnan(score).sum()),
                           "worst": int(np.isneginf(score).sum())}
    s = rankdata(s)  # ranks: -inf ties last, +inf first; rho and tau depend on ranks only
    if ok.sum() < 3 or np.ptp(s) == 0:
        out.update(spearman=np.nan, kendall=np.nan, spearman_ci=[np.nan, np.nan],
                   kendall_ci=[np.nan, np.nan])
        return out
    out["spearman"] = float(spearmanr(s, a).statistic)
    out["kendall"] = float(kendalltau(s, a).statistic)
    rs, ra = rankdata(s), rankdata(a)
    n = len(s)
    idx = rng.integers(0, n, (n_boot, n))
    boots_rho = np.concatenate([_row_pearson(rankdata(rs[c], axis=1), rankdata(ra[c], axis=1))
                                for c in np.array_split(idx, max(1, n_boot * n // 2_000_000))])
    if n <= KENDALL_VECTOR_MAX:  # every pair at once: tau-b = sum sx*sy / sqrt(...)
        boots_tau = np.concatenate([_kendall_b(s[c], a[c]) for c in np.array_split(
            idx, max(1, n_boot * n * n // 20_000_000))])
    else:  # large samples: 200 resamples are plenty for a 95% interval of tau
        boots_tau = np.array([kendalltau(s[i], a[i]).statistic for i in idx[:200]])
    out["spearman_ci"] = [float(np.nanpercentile(boots_rho, 2.5)),
                          float(np.nanpercentile(boots_rho, 97.5))]
    out["kendall_ci"] = [float(np.nanpercentile(boots_tau, 2.5)),
                         float(np.nanpercentile(boots_tau, 97.5))]
    return out


#: largest sample whose Kendall bootstrap is computed pairwise in numpy
KENDALL_VECTOR_MAX = 100


def _row_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row pair (NaN for a constant row)."""
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant resample: NaN
        return (x * y).sum(axis=1) / np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))


def _kendall_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall tau-b of each row pair: sum over pairs of sign(dx) sign(dy), normalised by
    the untied pairs of each variable (ties, including repeated bootstrap draws, count 0)."""
    i, j = np.triu_indices(x.shape[1], 1)
    sx, sy = np.sign(x[:, i] - x[:, j]), np.sign(y[:, i] - y[:, j])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sx * sy).sum(axis=1) / np.sqrt(np.abs(sx).sum(axis=1) * np.abs(sy).sum(axis=1))


def rank_normalise(x: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1]; NaN stays NaN, -inf (undefined: worst) ranks last."""
    from scipy.stats import rankdata

    out = np.full(len(x), np.nan)
    ok = ~np.isnan(x)
    if ok.sum() > 1:
        out[ok] = (rankdata(x[ok]) - 1) / (ok.sum() - 1)
    return out
