"""BANANAS's search results under variants of its ensemble fit (docs/search.md's table):
the same seeds of NB201 at a query budget for each variant, mean ± std of the incumbent's
test accuracy, median seconds a cell, and the Wilcoxon signed-rank test of the paired seeds
against the first variant.

    python tests/bench/bananas_fits.py --dataset ImageNet16-120    # 200 vs 40 steps, 100 seeds
    python tests/bench/bananas_fits.py --variant epochs=200 --variant refit_epochs=25,epochs=200

Each variant is keyword arguments of ``Bananas`` (``k=v,k=v``); the first is the baseline.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _kwargs(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (part.split("=") for part in text.split(",") if part)}


def measure(dataset: str, variants: list[str], seeds: int, queries: int) -> list[dict]:
    from scipy.stats import wilcoxon

    import adapters
    from harness.core.budget import Budget
    from harness.search.cells import Cell, run_search_cell
    from methods.search.bananas import Bananas

    bench = adapters.load_benchmark("nb201")
    out, base = [], None
    for text in variants:
        kw = _kwargs(text)
        cls = type("Variant", (Bananas,), {"__init__": lambda self, kw=kw: Bananas.__init__(
            self, **kw)})
        vals, secs = [], []
        for seed in range(seeds):
            cell = Cell("bananas", "nb201", dataset, seed, Budget(queries=queries), 20261128)
            t0 = time.perf_counter()
            vals.append(run_search_cell(cls, cell, bench)["test_value"])
            secs.append(time.perf_counter() - t0)
        v = np.array(vals)
        row = {"variant": text, "mean": round(float(v.mean()), 3),
               "std": round(float(v.std()), 3), "s_per_cell": round(float(np.median(secs)), 3)}
        if base is None:
            base = v
        elif (v != base).any():
            row["p_vs_first"] = round(float(wilcoxon(v, base).pvalue), 4)
            row["better_worse"] = (int((v > base).sum()), int((v < base).sum()))
        out.append(row)
        print(row, flush=True)
    bench.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--variant", action="append", help="Bananas kwargs, e.g. epochs=200")
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--queries", type=int, default=150)
    a = p.parse_args()
    measure(a.dataset, a.variant or ["epochs=200", "epochs=40"], a.seeds, a.queries)


if __name__ == "__main__":
    main()
