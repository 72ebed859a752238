"""The claims audit: every numeric claim of the survey, with the survey's value, the original
value and its status from the reference file, our measured value where the harness measures
it, and a verdict computed by rule (never written by hand):

* **reproduced** -- the survey's value agrees with what we measured (within the claim's
  tolerance or interval), or, where we measure nothing, with a VERIFIED original value of the
  same quantity;
* **mislabelled** -- it disagrees with the quantity it names, but equals another quantity:
  another statistic (Spearman printed as Kendall), another unit (GPU-days in a GPU-hours
  column) or another work;
* **contradicted** -- it agrees with neither;
* **unverifiable** -- we measure nothing comparable and the reference file has no VERIFIED
  original.

Claims are declared in ``leaderboard/specs.json`` (``claims``): the survey's value as an
operator (``approx``, ``greater``, ``range``, ``transition``), the originals (``same``
quantity or ``other``), and what the harness measures for it (``measure``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.config import ONESHOT_LABELS

VERDICTS = ("reproduced", "mislabelled", "contradicted", "unverifiable")
#: measures that are wall-clock time on this machine: judged on the timings page only
TIMED = {"cost_span"}


# ---- what we measured -----------------------------------------------------------------------
def measured(spec: dict, rows: list[dict], bench_best=None) -> dict[str, Any] | None:
    """{"value": ..., "alt": {label: value}, "what": text} for a claim's ``measure`` spec,
    or None when the store has nothing for it."""
    m = spec.get("measure")
    if not m:
        return None
    kind = m["kind"]
    if kind in ("proxy", "proxy_max", "proxy_range"):
        from harness.report.base import latest

        source = m.get("source", "ours")
        px = latest(rows, "proxy-published" if source == "published" else "proxy")
        stat, alt = m.get("stat", "kendall"), m.get("alt")

        def get(method, ds):
            r = px.get((m.get("benchmark", "nb201"), ds, method))
            if r is None or r["result"].get("test", {}).get(stat) is None:
                return None
            t = r["result"]["test"]
            return {"value": t[stat], "alt": t.get(alt) if alt else None,
                    "n": t.get("n"), "method": method, "dataset": ds}

        if kind == "proxy":
            got = get(m["method"], m["dataset"])
            if got is None or not np.isfinite(got["value"]):
                return None
            return {"value": got["value"], "alt": {alt: got["alt"]} if alt else {},
                    "what": f"our {stat} of {m['method']} on NB201 {m['dataset']} "
                            f"(n={got['n']})"}
        if kind == "proxy_max":
            got = [g for g in (get(x, m["dataset"]) for x in m["methods"])
                   if g and np.isfinite(g["value"])]
            if not got:
                return None
            best = max(got, key=lambda g: g["value"])
            return {"value": best["value"], "alt": {},
                    "what": f"our best {stat} among {', '.join(m['methods'])} on NB201 "
                            f"{m['dataset']}: {best['method']} (n={best['n']})"}
        got = [g for g in (get(m["method"], d) for d in m["datasets"])
               if g and np.isfinite(g["value"])]
        if not got:
            return None
        vals = [g["value"] for g in got]
        whose = "the published scores'" if source == "published" else "our"
        return {"value": (min(vals), max(vals)), "alt": {},
                "what": f"{whose} {stat} of {m['method']} on NB201 "
                        f"{', '.join(g['dataset'] for g in got)}"}
    if kind == "ranking":  # supernet Kendall tau of two methods, mean over seeds, in the
        # largest configuration where both were ranked
        for label in ONESHOT_LABELS:
            taus: dict[str, list[float]] = {}
            for r in rows:
                rk = r["kind"] == "oneshot" and r["result"].get("ranking")
                if rk and r["method"] in m["methods"] and r["dataset"] == m["dataset"] \
                        and r["result"].get("configuration") == label:
                    taus.setdefault(r["method"], []).append(
                        rk["supernet_vs_test"]["kendall"])
            if all(x in taus for x in m["methods"]):
                a, b = (float(np.mean(taus[x])) for x in m["methods"])
                return {"value": (a, b), "alt": {},
                        "what": f"supernet Kendall τ on NB201 {m['dataset']}: "
                                f"{m['methods'][0]} {a:.2f} -> {m['methods'][1]} {b:.2f} "
                                f"(mean over {len(taus[m['methods'][0]])} seeds, {label} "
                                "configuration)"}
        return None
    if kind == "oneshot_skip":  # mean skip edges of a method's final cells
        from harness.report.survey_tables import _oneshot

        rs = _oneshot(rows, m["method"], m["dataset"])
        if not rs:
            return None
        mean = float(np.mean([r["result"]["skip_edges"] for r in rs]))
        return {"value": mean, "alt": {},
                "what": f"mean skip edges of {m['method']}'s final cells over {len(rs)} "
                        f"seeds ({rs[0]['result']['configuration']} configuration)"}
    if kind == "cost_span":
        from harness.report.base import load_specs
        from harness.report.survey_tables import table1

        specs, refs = load_specs()
        span = table1(rows, specs, refs)["orders_of_magnitude"]
        return None if span is None else {
            "value": span, "alt": {}, "what": "orders of magnitude between our cheapest and "
                                              "dearest paradigm (regenerated Table 1)"}
    if kind == "bench_best" and bench_best is not None:
        v = bench_best(m["benchmark"], m["metric"], m["dataset"])
        return None if v is None else {"value": v, "alt": {},
                                       "what": f"best {m['metric']} in the converted "
                                               f"{m['benchmark']} table ({m['dataset']})"}
    return None


# ---- verdicts ---------------------------------------------------------------------------------
def agrees(claim: dict, value: Any, tol: float) -> bool:
    """Does ``value`` satisfy the survey's claim (operator + tolerance)?"""
    if value is None:
        return False
    op = claim["op"]
    if op == "approx":
        return abs(float(value) - claim["value"]) <= tol
    if op == "greater":
        v = max(value) if isinstance(value, tuple) else value
        return float(v) > claim["value"]
    if op == "range":
        lo, hi = value if isinstance(value, tuple) else (value, value)
        return lo >= claim["low"] - tol and hi <= claim["high"] + tol
    if op == "transition":
        a, b = value
        return abs(a - claim["from"]) <= tol and abs(b - claim["to"]) <= tol
    raise ValueError(op)


def verdict(spec: dict, meas: dict | None, status: str) -> tuple[str, str]:
    """(verdict, one sentence why) for one claim."""
    claim, tol = spec["survey"], spec.get("tolerance", 0.05)
    others = [o for o in spec.get("original", []) if o.get("as") == "other"]
    if meas is not None:
        if agrees(claim, meas["value"], tol):
            return "reproduced", f"{meas['what']} = {_fmt(meas['value'])} agrees"
        for label, v in meas.get("alt", {}).items():
            if v is not None and agrees(claim, v, tol):
                return "mislabelled", (f"it matches our {label} ({_fmt(v)}), not the "
                                       f"quantity named ({_fmt(meas['value'])})")
        for o in others:
            if agrees(claim, o["value"], tol):
                return "mislabelled", f"it equals {o['label']} ({_fmt(o['value'])})"
        return "contradicted", f"{meas['what']} = {_fmt(meas['value'])}"
    if not status.startswith("VERIFIED"):
        return "unverifiable", "the harness measures nothing comparable and the original " \
                               "is not verified"
    same = [o for o in spec.get("original", []) if o.get("as") == "same"]
    for o in same:
        if agrees(claim, o["value"], tol):
            return "reproduced", f"the original reports {_fmt(o['value'])} ({o['label']})"
    for o in others:
        if agrees(claim, o["value"], tol):
            return "mislabelled", f"it equals {o['label']} ({_fmt(o['value'])})"
    if same:
        return "contradicted", f"the original reports {_fmt(same[0]['value'])} " \
                               f"({same[0]['label']})"
    return "unverifiable", "no original value of this quantity"


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return " -> ".join(_fmt(x) for x in v) if len(v) == 2 else str(v)
    return f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else f"{v:,}"


def is_timed(spec: dict) -> bool:
    """Is the claim judged on a wall-clock measurement (the timings page's claims)?"""
    return (spec.get("measure") or {}).get("kind") in TIMED


def audit(rows: list[dict], specs: dict, refs: dict, bench_best=None,
          timed: bool = False) -> list[dict]:
    """One row per claim of ``specs['claims']``, claims measured in wall-clock time pointing
    to the timings page; with ``timed``, one row per such claim only, judged (the timings
    page's rows)."""
    out = []
    for spec in specs.get("claims", []):
        if timed and not is_timed(spec):
            continue
        ref = refs.get(spec["ref_id"], {}) if spec.get("ref_id") else {}
        status = str(ref.get("status", "no reference row"))
        if is_timed(spec) and not timed:
            meas, (v, why) = None, ("timed", "measured in wall-clock time on this machine: "
                                             "judged on the timings page")
        else:
            meas = measured(spec, rows, bench_best)
            v, why = verdict(spec, meas, status)
        out.append({"claim": spec["claim"], "where": spec["where"],
                    "survey": spec["survey"]["text"],
                    "original": ref.get("original_value") or "—",
                    "status": f"{status}" + (f" [ref {spec['ref_id']}]" if ref else ""),
                    "measured": f"{_fmt(meas['value'])}: {meas['what']}" if meas else "—",
                    "verdict": v, "why": why})
    return out
