"""Hardware-aware NAS on NB201: the true Pareto front of accuracy against a device's latency
or energy, read from the converted table (HW-NAS-Bench costs), and its hypervolume.

A front is the set of archs no other arch beats on both axes (higher test accuracy, lower
cost). The hypervolume is the area the front dominates up to a reference point -- the
table's worst cost and worst accuracy -- divided by the area of the box from the best cost
and best accuracy to that point, so 1.0 would be one arch best on both axes. The fronts
that hardware-aware search strategies found (recorded per cell by
:mod:`harness.search.hardware`) are summarised over seeds and drawn against the true ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.pareto import front, normalised_hypervolume

#: (cost column, label, unit as HW-NAS-Bench reports it) of the devices shown: two latency
#: devices and an energy one
DEVICES = (("hw_pixel3_latency", "Pixel 3 latency", "ms"),
           ("hw_edgegpu_latency", "Edge GPU (Jetson TX2) latency", "ms"),
           ("hw_edgegpu_energy", "Edge GPU (Jetson TX2) energy", "mJ"))
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def is_hardware(row: dict) -> bool:
    """Whether a stored row is a hardware-aware search (its budget names an objective)."""
    return row["kind"] == "search" and ",objective=" in row["budget"]


def found_fronts(rows: list[dict]) -> list[dict[str, Any]]:
    """Per (dataset, objective, budget, method) of the hardware-aware rows: the normalised
    hypervolume of the fronts found (mean, std over seeds), their size, and -- under a
    constraint -- the test accuracy of the best feasible arch found."""
    from collections import defaultdict

    from harness.report.base import mean_ci

    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if is_hardware(r):
            h = r["result"]["hardware"]
            groups[(r["dataset"], h["objective"], r["budget"], r["method"])].append(r)
    out = []
    for (ds, obj, budget, m), rs in sorted(groups.items()):
        hs = [r["result"]["hardware"] for r in sorted(rs, key=lambda r: r["seed"])]
        hv = mean_ci([h["hypervolume"] for h in hs])
        rec = {"dataset": ds, "device": obj, "budget": budget, "method": m, "seeds": len(hs),
               "hypervolume_mean": round(hv[0], 6), "hypervolume_std": round(hv[1], 6),
               "front_size_mean": round(float(np.mean([len(h["front"]) for h in hs])), 3),
               "cost_limit": hs[0]["cost_limit"],
               "seed0_front": {"cost": hs[0]["front_cost"], "test": hs[0]["front_test"]}}
        feas = [h["feasible_test"] for h in hs if "feasible_test" in h]
        if hs[0]["cost_limit"] is not None:
            f = mean_ci(feas) if feas else (float("nan"), float("nan"), 0.0)
            rec.update(feasible_seeds=len(feas), feasible_test_mean=round(f[0], 4),
                       feasible_test_std=round(f[1], 4))
        out.append(rec)
    return out


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
            f = front(acc, cost)
            out.append({"dataset": ds, "device": col, "label": label, "unit": unit,
                        "archs": int(ok.sum()), "front": [int(i) for i in f],
                        "hypervolume": round(normalised_hypervolume(acc, cost, acc, cost), 6),
                        "cheapest": _end(f[0], acc, cost),
                        "most_accurate": _end(f[-1], acc, cost)})
    return out


def _figure(bench, ds: str, recs: list[dict], path, found: list[dict]) -> None:
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
        for k, g in enumerate(x for x in found if x["dataset"] == ds
                              and x["device"] == r["device"]):
            ax.step(g["seed0_front"]["cost"], g["seed0_front"]["test"], where="post",
                    lw=0.9, ls="--", c=f"C{k}" if k < 3 else f"C{k + 1}",
                    label=f"{g['method']}, seed 0 (HV {g['hypervolume_mean']:.3f} mean)")
            if g["cost_limit"] is not None and k == 0:
                ax.axvline(g["cost_limit"], c="k", lw=0.6, ls=":", label="cost limit")
        ax.set_xlabel(f"{r['label']} ({r['unit']})")
        ax.set_ylabel(f"{ds} test accuracy (%)")
        # the interesting part: most archs (degenerate cells at chance level lie below)
        ax.set_ylim(float(np.nanpercentile(acc, 5)), float(np.nanmax(acc)) + 0.5)
        ax.set_title(f"hypervolume {r['hypervolume']:.3f}", fontsize=9)
        ax.legend(fontsize=6, loc="lower right")
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
        return {"markdown": "", "html": "", "figures": [], "records": [], "found": []}
    found = found_fronts(rows)
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
           "figures draw the fronts the hardware-aware strategies found (seed 0) against them.")
    md = [f"### {title}", "", cap, "", tabulate(table, headers="keys", tablefmt="github"), ""]
    hp = [f"<h3>{html.escape(title)}</h3><p>{html.escape(cap)}</p>",
          tabulate(table, headers="keys", tablefmt="html")]
    if found:
        ftable, fcap = _found_table(bench, found, recs)
        md += [f"### Hardware-aware search on {benchmark}: fronts found", "", fcap, "",
               tabulate(ftable, headers="keys", tablefmt="github"), ""]
        hp += [f"<h3>Hardware-aware search on {html.escape(benchmark)}: fronts found</h3>"
               f"<p>{html.escape(fcap)}</p>", tabulate(ftable, headers="keys",
                                                        tablefmt="html")]
    figures = []
    for ds in dict.fromkeys(r["dataset"] for r in recs):
        name = f"figures/pareto_{benchmark}_{ds}.png"
        _figure(bench, ds, [r for r in recs if r["dataset"] == ds], out / name, found)
        figures.append(name)
        md.append(f"![{benchmark} {ds} Pareto fronts]({name})")
        hp.append(f'<img src="{html.escape(name)}" alt="{html.escape(ds)}" width="900">')
    md.append("")
    return {"markdown": "\n".join(md), "html": "\n".join(hp), "figures": figures,
            "records": [{k: v for k, v in r.items() if k != "label"} for r in recs],
            "found": [{k: v for k, v in g.items() if k != "seed0_front"} for g in found]}


def _found_table(bench, found: list[dict], recs: list[dict]) -> tuple[list[dict], str]:
    """The fronts-found table: hypervolume beside the true front's, and under a constraint
    the best feasible arch found beside the table's best feasible arch."""
    ids = np.arange(bench.num_archs, dtype=np.int64)
    table = []
    for g in found:
        true = next((r for r in recs if r["dataset"] == g["dataset"]
                     and r["device"] == g["device"]), None)
        row = {"dataset": g["dataset"], "device": g["device"], "method": g["method"],
               "seeds": g["seeds"],
               "hypervolume found": f"{g['hypervolume_mean']:.3f} ± {g['hypervolume_std']:.3f}",
               "true front": f"{true['hypervolume']:.3f}" if true else "—",
               "front size": f"{g['front_size_mean']:.1f}"}
        if g["cost_limit"] is not None:
            proto = bench.protocol(g["dataset"])
            acc = bench.query(ids, proto["report_metric"], proto["report_dataset"])
            cost = bench.cost(ids, g["device"], g["dataset"])
            best = float(np.nanmax(np.where(cost <= g["cost_limit"], acc, np.nan)))
            row["cost limit"] = f"{g['cost_limit']:.4g}"
            row["best feasible found (test)"] = (
                f"{g['feasible_test_mean']:.2f} ± {g['feasible_test_std']:.2f} "
                f"({g['feasible_seeds']})")
            row["table's best feasible"] = f"{best:.2f}"
        table.append(row)
    cap = ("Each hardware-aware strategy's front after its budget: the archs it queried that "
           "no other queried arch beats on the search metric and the device cost (what the "
           "method could see), judged on test accuracy by the normalised hypervolume of the "
           "true-front table above (mean ± std over seeds). Costs are free to look up; "
           "every query counts. The cost limit is the table's 25th percentile of the "
           "device cost (cost_quantile in the profile); 'best feasible found' is the test "
           "accuracy of the arch with the best search metric among the queried archs within "
           "it.")
    return table, cap
