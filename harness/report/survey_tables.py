"""The survey's Table 2 (DARTS variants: skip collapse, accuracy, search cost) and Table 1
(search cost per paradigm) regenerated under one protocol on NB201, beside the survey's and
the originals' numbers (reference file). Built from the store only."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adapters.nb201_supernet import SKIP
from harness.core.config import ONESHOT_LABELS


def _oneshot_all(rows: list[dict], method: str, dataset: str = "cifar10") -> list[dict]:
    """Complete one-shot rows of ``method`` on ``dataset``, every configuration."""
    return [r for r in rows if r["kind"] == "oneshot" and r["method"] == method
            and r["dataset"] == dataset and r["result"].get("complete", True)]


def _oneshot(rows: list[dict], method: str, dataset: str = "cifar10") -> list[dict]:
    """Complete one-shot rows of ``method`` on ``dataset`` in the largest configuration
    present (paper over cpu-collapse over reduced over smoke)."""
    mine = _oneshot_all(rows, method, dataset)
    for label in ONESHOT_LABELS:
        got = [r for r in mine if r["result"]["configuration"] == label]
        if got:
            return got
    return []


def collapse(rs: list[dict]) -> dict[str, Any]:
    """Skip collapse measured on a method's rows: mean skip edges of the final cell, seeds
    with >= 3 of 6 skip edges, and the trajectory of the mean skip weight."""
    skips = [r["result"]["skip_edges"] for r in rs]
    out: dict[str, Any] = {"mean_skip_edges": float(np.mean(skips)),
                           "collapsed_seeds": sum(s >= 3 for s in skips), "seeds": len(rs)}
    traj = [(np.asarray(r["result"]["log"][0]["weights"])[:, SKIP].mean(),
             np.asarray(r["result"]["log"][-1]["weights"])[:, SKIP].mean())
            for r in rs if "weights" in r["result"]["log"][0]]
    if traj:
        first, last = (float(np.mean(x)) for x in zip(*traj, strict=True))
        uniform = 1 / np.asarray(rs[0]["result"]["log"][0]["weights"]).shape[1]
        trend = "rises" if last > first + 0.01 else "falls" if last < first - 0.01 else \
            "stays flat"
        out["trajectory"] = (f"skip weight {trend} ({first:.3f} -> {last:.3f}; uniform "
                             f"{uniform:.2f})")
    out["verdict"] = ("collapse" if out["collapsed_seeds"] * 2 > len(rs) else
                      "no collapse")
    return out


#: the survey's Table 2 "Skip Collapse?" entries (reference file ``survey_skip_collapse``)
#: as the outcome they claim: collapse or not. "Rare" claims that a search does not
#: usually collapse, so a method collapsing in most seeds contradicts it.
SURVEY_COLLAPSE = {"yes (often)": True, "yes": True, "no": False, "rare": False}


#: the method whose collapse makes a robust variant's "no collapse" mean something
BASELINE = "darts-v1"


def collapse_verdict(col: dict, ref: dict, baseline: dict | None = None,
                     configuration: str = "", is_baseline: bool = False) -> str:
    """The survey's "skip collapse?" entry for the row (reference file
    ``survey_skip_collapse``) judged against the collapse measured here. Only a VERIFIED
    reference row becomes a check.

    A claim that a robust variant does *not* collapse is only tested where DARTS-V1
    (``baseline``: its :func:`collapse` at the same configuration and dataset) collapses: at
    a configuration where plain DARTS keeps its cell too, "no collapse" says nothing about
    the variant's fix, so the row is "not judged" instead of "reproduced". For the same
    reason a variant that keeps its cell where DARTS-V1 keeps it too (a configuration too
    small for any search to collapse) neither contradicts a claim that it collapses: "not
    judged" as well. Only a collapse, or DARTS-V1's own row (``is_baseline``: whether the
    collapse appears at this size at all), is judged at any configuration."""
    if not ref:
        return "not in the survey's Table 2"
    said = ref.get("survey_skip_collapse")
    if said is None:
        return ("unverifiable: the survey's entry is not in the reference file; measured "
                f"here: {col['verdict']}")
    claim = SURVEY_COLLAPSE.get(str(said).strip().lower())
    if claim is None:
        return f"unverifiable: the survey's entry {said!r} is neither yes, no nor rare"
    if not str(ref.get("status", "")).startswith("VERIFIED"):
        return (f"not checked: the survey says {said!r}, but its reference row is "
                f"{ref.get('status', 'without a status')}; measured here: {col['verdict']}")
    ours = col["verdict"] == "collapse"
    if not ours and not is_baseline and (baseline is None or
                                         baseline["verdict"] != "collapse"):
        where = f"the {configuration} configuration" if configuration else "this configuration"
        base = (f"DARTS-V1 was not run at {where}" if baseline is None else
                f"DARTS-V1 does not collapse at {where} either "
                f"({baseline['mean_skip_edges']:.1f} skip edges on average)")
        return (f"not judged: the survey says {said!r} and no collapse is measured here, but "
                f"{base}, so that tests nothing")
    return (f"{'reproduced' if ours == claim else 'contradicted'}: the survey says "
            f"{said!r}, measured here: {col['verdict']}")


def table2(rows: list[dict], specs: dict, refs: dict) -> list[dict]:
    """One row per (dataset, method) of the survey's Table 2 list, CIFAR-10 first."""
    from harness.report.base import DATASETS, published_oneshot

    present = {r["dataset"] for r in rows if r["kind"] == "oneshot"}
    out = []
    for ds, spec in ((d, s) for d in DATASETS if d in present for s in specs.get("table2", [])):
        rs = _oneshot(rows, spec["method"], ds)
        if not rs:
            continue
        col = collapse(rs)
        conf = rs[0]["result"]["configuration"]
        base = [r for r in _oneshot_all(rows, BASELINE, ds)
                if r["result"]["configuration"] == conf]
        test = [r["test_value"] for r in rs]
        ref = refs.get(spec.get("survey_ref"), {})
        out.append({
            "dataset": ds,
            "method": spec["label"],
            "configuration": rs[0]["result"]["configuration"],
            "skip collapse, measured": f"{col['verdict']}: {col['mean_skip_edges']:.1f} skip "
                                       f"edges on average, {col['collapsed_seeds']}/"
                                       f"{col['seeds']} seeds with >= 3 of 6",
            "alpha trajectory": col.get("trajectory", "—"),
            "derived cell test acc":
                f"{np.mean(test):.2f} ± {np.std(test, ddof=1) if len(test) > 1 else 0:.2f}",
            "survey (DARTS space, CIFAR-10 error; different search space)":
                ref.get("survey_value", "—") if ref else "—",
            "original NB201 value (valid / test)": published_oneshot(specs, refs,
                                                                     spec["method"], ds),
            "survey's key fix": ref.get("survey_key_fix", "—") if ref else "—",
            "verdict on the survey's 'skip collapse?'": collapse_verdict(
                col, ref, collapse(base) if base else None, conf,
                is_baseline=spec["method"] == BASELINE),
        })
    return out


def _hours(seconds: float) -> str:
    h = seconds / 3600
    return f"{h:.2e}" if h < 0.01 else f"{h:,.2f}"


#: what the main page says where a cost is wall-clock time on this machine
ON_TIMINGS_PAGE = "wall-clock on this machine: see the timings page"


def measured_cost(rows: list[dict], ours: dict, timed: bool = True
                  ) -> tuple[float | None, str]:
    """(hours, text) our run of the paradigm's method cost, or (None, why not). Costs that
    are wall-clock time (one-shot, proxies) only when ``timed``: the main leaderboard holds
    no timings, the timings page does."""
    kind, m = ours["kind"], ours["method"]
    if kind == "search":  # tabular search: the table's training time of what it queried
        rs = [r for r in rows if r["kind"] == "search" and r["method"] == m
              and r.get("sim_seconds_used")]
        if not rs:
            return None, f"{m}: no search on a table with training times"
        r0 = sorted(rs, key=lambda r: (r["benchmark"], r["dataset"]))[0]
        same = [r for r in rs if (r["benchmark"], r["dataset"]) == (r0["benchmark"],
                                                                    r0["dataset"])]
        sim = float(np.median([r["sim_seconds_used"] for r in same]))
        return sim / 3600, (f"{m} on {r0['benchmark']} {r0['dataset']}: {_hours(sim)} "
                            "simulated GPU-h (the table's training times of the archs it "
                            f"queried, budget {r0['budget']}; {len(same)} seeds)")
    if not timed:
        return None, ON_TIMINGS_PAGE
    if kind == "oneshot":
        rs = [r for r in _oneshot(rows, m) if r["result"].get("search_seconds")]
        if not rs:
            return None, f"{m}: not run"
        s = float(np.median([r["result"]["search_seconds"] for r in rs]))
        dev = rs[0]["result"]["device"]
        unit = "GPU-h" if dev.startswith("cuda") else "CPU-h"
        return s / 3600, (f"{m}: {_hours(s)} {unit} on {dev} "
                          f"({rs[0]['result']['configuration']} configuration)")
    from harness.report.base import latest

    px = [r for (b, d, x), r in latest(rows, "proxy").items()
          if b == "nb201" and d == "cifar10" and x == m and r["result"].get("median_seconds")]
    if not px:
        return None, f"{m}: no timed proxy scores"
    per = px[0]["result"]["median_seconds"]
    s = per * ours["archs"]
    what = "scoring" if m != "nwot" else "a NASWOT search scoring"
    return s / 3600, (f"{what} {ours['archs']} archs with {m}: {_hours(s)} CPU-h "
                      f"({per:.3f} s per arch, {px[0]['device']})")


def table1(rows: list[dict], specs: dict, refs: dict, timed: bool = True) -> dict[str, Any]:
    """Rows of Table 1 and the span of our measured costs in orders of magnitude (with
    ``timed=False``: only the costs that are not wall-clock time, and no span)."""
    claims = {c["id"]: c for c in specs.get("claims", [])}
    out, hours = [], []
    for spec in specs.get("table1", []):
        claim = claims[spec["claim"]]
        ref = refs.get(claim["ref_id"], {})
        h, text = measured_cost(rows, spec["ours"], timed)
        if h:
            hours.append(h)
        out.append({"paradigm": spec["paradigm"], "representative work": spec["work"],
                    "survey's cost": claim["survey"]["text"],
                    "original cost (reference file)": ref.get("original_value", "—"),
                    "status": ref.get("status", "—"),
                    "ours on NB201, measured": text})
    span = math.log10(max(hours) / min(hours)) if timed and len(hours) > 1 else None
    return {"rows": out, "orders_of_magnitude": span}
