"""Hardware-aware NAS on NB201: the true Pareto front of accuracy against a device's latency
or energy, read from the converted table (HW-NAS-Bench costs), and its hypervolume.

A front is the set of archs no other arch beats on both axes (higher test accuracy, lower
cost). The hypervolume is the area the front dominates up to a reference point -- the
table's worst cost and worst accuracy -- divided by the area of the box from the best cost
and best accuracy to that point, so 1.0 would be one arch best on both axes. The found
fronts of hardware-aware search strategies will be judged against these (issue [7 of 7]).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: (cost column, label, unit as HW-NAS-Bench reports it) of the devices shown: two latency
#: devices and an energy one
DEVICES = (("hw_pixel3_latency", "Pixel 3 latency", "ms"),
           ("hw_edgegpu_latency", "Edge GPU (Jetson TX2) latency", "ms"),
           ("hw_edgegpu_energy", "Edge GPU (Jetson TX2) energy", "mJ"))
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def front(acc: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (maximise ``acc``, minimise ``cost``), sorted by
    cost; points with a NaN are left out. O(n log n): by cost, then accuracy descending, a
    point is on the front when it beats every cheaper point's accuracy."""
    acc, cost = np.asarray(acc, float), np.asarray(cost, float)
    ok = np.flatnonzero(np.isfinite(acc) & np.isfinite(cost))
    order = ok[np.lexsort((-acc[ok], cost[ok]))]
    keep, best = [], -np.inf
    for i in order:
        if acc[i] > best:
            keep.append(i)
            best = acc[i]
    return np.asarray(keep, dtype=np.int64)


def hypervolume(acc: np.ndarray, cost: np.ndarray, ref_acc: float, ref_cost: float) -> float:
    """Area dominated by the points (maximise acc, minimise cost) inside the reference box."""
    idx = front(acc, cost)
    a, c = np.asarray(acc, float)[idx], np.asarray(cost, float)[idx]
    inside = (a > ref_acc) & (c < ref_cost)
    a, c = a[inside], c[inside]
    if not len(a):
        return 0.0
    right = np.append(c[1:], ref_cost)  # the front is sorted by cost, accuracy rising
    return float(np.sum((right - c) * (a - ref_acc)))


def _end(i: int, acc: np.ndarray, cost: np.ndarray) -> dict[str, Any]:
    """One end of a front: its arch, cost and accuracy (6 significant digits)."""
    return {"arch": int(i), "cost": float(f"{cost[i]:.6g}"), "acc": float(f"{acc[i]:.6g}")}


def true_fronts(bench, datasets=DATASETS, devices=DEVICES) -> list[dict[str, Any]]:
    """One record per (dataset, device): the front's archs, its normalised hypervolume, and
    the ends of the front (cheapest and most accurate arch)."""
    out = []
    ids = np.arange(bench.num_archs, dtype=np.int64)
    for ds in datasets:
        if ds not in bench.datasets:
            continue
        proto = bench.protocol(ds)
        acc = bench.query(ids, proto["report_metric"], proto["report_dataset"])
        for col, label, unit in devices:
            try:
                cost = bench.cost(ids, col, ds)
            except Exception:  # a table without this device: no record
                continue
            ok = np.isfinite(acc) & np.isfinite(cost)
            ref_a, ref_c = float(acc[ok].min()), float(cost[ok].max())
            box = (float(acc[ok].max()) - ref_a) * (ref_c - float(cost[ok].min()))
            f = front(acc, cost)
            out.append({"dataset": ds, "device": col, "label": label, "unit": unit,
                        "archs": int(ok.sum()), "front": [int(i) for i in f],
                        "hypervolume": round(hypervolume(acc, cost, ref_a, ref_c) / box, 6),
                        "cheapest": _end(f[0], acc, cost),
                        "most_accurate": _end(f[-1], acc, cost)})
    return out


def _figure(bench, ds: str, recs: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = np.arange(bench.num_archs, dtype=np.int64)
    proto = bench.protocol(ds)
    acc = bench.query(ids, proto["report_metric"], proto["report_dataset"])
    fig, axes = plt.subplots(1, len(recs), figsize=(4.2 * len(recs), 3.4), squeeze=False)
    for ax, r in zip(axes[0], recs, strict=True):
        cost = bench.cost(ids, r["device"], ds)
        ax.scatter(cost, acc, s=2, c="#bbbbbb", rasterized=True, label="all archs")
        f = np.asarray(r["front"])
        ax.step(cost[f], acc[f], where="post", c="C3", lw=1.4,
                label=f"true front ({len(f)} archs)")
        ax.set_xlabel(f"{r['label']} ({r['unit']})")
        ax.set_ylabel(f"{ds} test accuracy (%)")
        # the interesting part: most archs (degenerate cells at chance level lie below)
        ax.set_ylim(float(np.nanpercentile(acc, 5)), float(np.nanmax(acc)) + 0.5)
        ax.set_title(f"hypervolume {r['hypervolume']:.3f}", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    from harness.report.base import save_figure

    save_figure(fig, path.parent, path.name)


def section(out, rows: list[dict], benchmark: str = "nb201") -> dict[str, Any]:
    """Markdown, HTML, figures and records of the true Pareto fronts (nothing when no row
    covers the benchmark -- its table is then never opened or converted -- or when the
    table cannot be opened here)."""
    import html

    from tabulate import tabulate

    recs = []
    if any(r["benchmark"] == benchmark for r in rows):
        try:
            from harness.core.cellbase import _get_bench

            bench = _get_bench(benchmark)
            recs = true_fronts(bench)
        except Exception:  # no converted table here: no section, the rest is unaffected
            recs = []
    if not recs:
        return {"markdown": "", "html": "", "figures": [], "records": []}
    table = [{"dataset": r["dataset"], "device": r["label"], "archs": r["archs"],
              "archs on the front": len(r["front"]),
              "hypervolume (normalised)": f"{r['hypervolume']:.3f}",
              "cheapest: cost / acc": f"{r['cheapest']['cost']:.3g} {r['unit']} / "
                                      f"{r['cheapest']['acc']:.2f}",
              "most accurate: cost / acc": f"{r['most_accurate']['cost']:.3g} {r['unit']} / "
                                           f"{r['most_accurate']['acc']:.2f}"}
             for r in recs]
    title = f"Hardware-aware NAS on {benchmark}: true Pareto fronts"
    cap = ("Test accuracy against each device's latency or energy (HW-NAS-Bench costs in the "
           "converted table): the archs no other arch beats on both, and the share of the "
           "box from the best to the worst values that they dominate (hypervolume). The "
           "fronts that hardware-aware search strategies find will be drawn against these.")
    md = [f"### {title}", "", cap, "", tabulate(table, headers="keys", tablefmt="github"), ""]
    hp = [f"<h3>{html.escape(title)}</h3><p>{html.escape(cap)}</p>",
          tabulate(table, headers="keys", tablefmt="html")]
    figures = []
    for ds in dict.fromkeys(r["dataset"] for r in recs):
        name = f"figures/pareto_{benchmark}_{ds}.png"
        _figure(bench, ds, [r for r in recs if r["dataset"] == ds], out / name)
        figures.append(name)
        md.append(f"![{benchmark} {ds} Pareto fronts]({name})")
        hp.append(f'<img src="{html.escape(name)}" alt="{html.escape(ds)}" width="900">')
    md.append("")
    return {"markdown": "\n".join(md), "html": "\n".join(hp), "figures": figures,
            "records": [{k: v for k, v in r.items() if k != "label"} for r in recs]}
