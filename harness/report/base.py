"""Helpers every leaderboard section and the claims audit share, below all of them (so the
sections, the survey tables and the claims import it, never each other in a circle): the
specs and reference numbers, the "v ± s" parser, the newest row per proxy, number and figure
formatting, and the published one-shot numbers of a method."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

#: NB201 datasets in the order the sections show them
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")

SPEC_DIR = Path(__file__).resolve().parents[2] / "leaderboard"


def load_specs(spec_dir: Path = SPEC_DIR) -> tuple[dict, dict[int, dict]]:
    specs = json.loads((spec_dir / "specs.json").read_text())
    refs = {r["id"]: r for r in json.loads(
        (spec_dir / "reference_numbers.json").read_text())["rows"]}
    return specs, refs


def parse_pm(text: str) -> tuple[float, float | None]:
    m = re.fullmatch(r"\s*([-\d.]+)\s*(?:±\s*([\d.]+))?\s*", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)), float(m.group(2)) if m.group(2) else None


def archs_evaluated(row: dict) -> int:
    """Archs a row was evaluated on (scored ones; NaN scores included)."""
    r = row["result"]
    return int(r.get("archs_scored") or r.get("test", {}).get("n") or 0)


def latest(rows: list[dict], kind: str) -> dict[tuple[str, str, str], dict]:
    """{(benchmark, dataset, method): row} of one kind, keeping the row on the most archs
    (a time-boxed sweep stores a row each run as it scores more of its sample)."""
    out: dict[tuple[str, str, str], dict] = {}
    for r in rows:
        if r["kind"] != kind:
            continue
        k = (r["benchmark"], r["dataset"], r["method"])
        if k not in out or archs_evaluated(r) > archs_evaluated(out[k]):
            out[k] = r
    return out


def mean_ci(x) -> tuple[float, float, float]:
    """Mean, sample std and the half-width of the normal 95% interval of the mean."""
    x = np.asarray(x, dtype=float)
    mean = float(np.mean(x))
    std = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
    half = 1.96 * std / np.sqrt(len(x)) if len(x) > 1 else 0.0
    return mean, std, half


def ci_text(c: dict, key: str) -> str:
    v = c.get(key)
    lo, hi = c.get(key + "_ci", [np.nan, np.nan])
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:.3f} [{lo:.2f}, {hi:.2f}]"


def published_oneshot(specs: dict, refs: dict, method: str, ds: str) -> str:
    out = []
    for s in specs.get("oneshot", []):
        ref = refs.get(s["ref_id"], {})
        if s["method"] != method or not str(ref.get("status", "")).startswith("VERIFIED"):
            continue
        v, t = s.get("valid", {}).get(ds), s.get("test", {}).get(ds)
        if t:
            out.append(f"{v or '—'} / {t} [ref {s['ref_id']}, {s['label']}]")
    return "; ".join(out) or "—"


def save_figure(fig, out: Path, name: str) -> str:
    """Lay out, write and close a figure; return its path relative to ``out``."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out / name)
    plt.close(fig)
    return name
