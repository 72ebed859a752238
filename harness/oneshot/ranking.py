"""How well a trained supernet ranks architectures (survey Figure 3a/3b, Section IV).

For a sample of archs stratified over table accuracy, the supernet's inherited-weight
accuracy (BN statistics recalibrated on training batches) is correlated with the table's
test accuracy: Kendall tau and Spearman rho with bootstrap intervals. For relaxation
methods (DARTS) the relaxation's own estimate -- the summed log of the arch's operation
weights -- is correlated too (Figure 3b). Both are also correlated with each arch's number
of parameter-free edges, which shows when a ranking is inverted by short training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.correlation import correlations
from harness.core.seeds import cell_seed_sequence, generator
from harness.proxies.scoring import stratified_archs

#: NB201 operations without weights
PARAM_FREE = ("none", "skip_connect", "avg_pool_3x3")


def param_free_bias(ops: np.ndarray, estimate: np.ndarray, test: np.ndarray
                    ) -> dict[str, float]:
    """Kendall tau of each arch's number of parameter-free edges with the estimate and with
    the table. A supernet trained too briefly favours what trains fastest (skip, pooling)
    while the table favours convolutions: a positive first and negative second tau is the
    signature of a ranking inverted by short training."""
    from scipy.stats import kendalltau

    from adapters.nb201_space import OPS

    n = np.isin(ops, [OPS.index(o) for o in PARAM_FREE]).sum(axis=1)
    tau = [kendalltau(n, v).statistic if np.ptp(n) and np.ptp(v) else np.nan
           for v in (estimate, test)]
    return {"estimate": round(float(tau[0]), 4), "table": round(float(tau[1]), 4)}


def rank_supernet(ctx, bench, cell, weights: np.ndarray | None) -> dict[str, Any]:
    """Score ``cell.ranking`` stratified archs with the supernet in ``ctx``."""
    proto = bench.protocol(cell.dataset)
    # one sample per (dataset, seed) for every method, so their correlations are comparable
    archs = stratified_archs(bench, cell.dataset, cell.ranking, cell_seed_sequence(
        cell.experiment_seed, "supernet-ranking", cell.benchmark, cell.dataset, cell.seed))
    ops = bench.encode(archs).astype(np.int64)
    acc = np.array([ctx.inherited_accuracy(o) for o in ops])
    test = bench.query(archs, proto["report_metric"], proto["report_dataset"])
    valid = bench.query(archs, proto["search_metric"], proto["search_dataset"])
    boot = generator(cell.stream("ranking-bootstrap"))
    out: dict[str, Any] = {
        "archs": archs.tolist(), "supernet_acc": np.round(acc, 3).tolist(),
        "table_test": np.round(test, 3).tolist(),
        "sampling": "stratified by reported accuracy",
        "supernet_vs_test": correlations(acc, test, boot),
        "supernet_vs_valid": correlations(acc, valid, boot),
        "estimate": "inherited-weight accuracy, BN recalibrated on "
                    f"{ctx._cfg.bn_batches}x{ctx._cfg.eval_batch} training images, "
                    f"{ctx._cfg.eval_batches}x{ctx._cfg.eval_batch} validation images",
    }
    out["param_free_bias"] = param_free_bias(ops, acc, test)
    if weights is not None:
        w = np.clip(np.asarray(weights, dtype=float), 1e-12, None)
        logw = np.log(w[np.arange(w.shape[0])[None, :], ops]).sum(axis=1)
        out["log_weight"] = np.round(logw, 5).tolist()
        out["log_weight_vs_test"] = correlations(logw, test, boot)
    return out
