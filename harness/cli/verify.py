"""``python -m harness verify``: the reproduction check CI runs.

It runs a profile's built-in methods into a fresh store and builds its leaderboard, then
checks two things:

* **values** (the smoke profile): every aggregate within a tolerance of
  ``expected/smoke.json`` -- drift in a method or the data fails;
* **bytes**: the leaderboard, apart from its timings folder, is byte-identical to the
  committed one -- ``expected/smoke-leaderboard.json`` (a sha256 manifest) for the smoke
  profile, or a folder given with ``--against`` (``verify --profile default --against
  leaderboard`` re-runs the default profile and compares with the committed leaderboard).

``--update`` rewrites the smoke files after an intended change.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from harness.core.errors import ConfigError, HarnessError

EXPECTED = Path(__file__).with_name("expected") / "smoke.json"
EXPECTED_LEADERBOARD = Path(__file__).with_name("expected") / "smoke-leaderboard.json"
TOLERANCE = {"test_mean": 0.05, "search_mean": 0.05, "queries_mean": 0.0}
PROXY_TOLERANCE = {"spearman": 0.05, "n": 0}
ONESHOT_TOLERANCE = {"test_value": 0.05, "skip_edges": 0, "kendall": 0.05}


def smoke_summary(store) -> dict:
    """The values ``verify`` compares: search aggregates, proxy and one-shot results."""
    from harness.report.leaderboard import aggregate_search

    rows = store.rows()
    out = {f"{a['benchmark']}/{a['dataset']}/{a['method']}/{a['budget']}":
           {k: round(a[k], 4) for k in TOLERANCE} | {"n_seeds": a["n_seeds"]}
           for a in aggregate_search(rows)}
    for r in rows:  # proxies: Spearman rho vs test accuracy (ours and published)
        key = f"{r['benchmark']}/{r['dataset']}/{r['method']}/{r['budget']}"
        if r["kind"].startswith("proxy") and r["test_value"] is not None:
            out[key] = {"spearman": round(r["test_value"], 4), "n": r["queries_used"]}
        elif r["kind"] == "oneshot":  # the derived cell, and the supernet's ranking
            rk = r["result"].get("ranking") or {}
            out[key] = {"test_value": round(r["test_value"], 4),
                        "skip_edges": r["result"]["skip_edges"],
                        "kendall": round(rk["supernet_vs_test"]["kendall"], 4) if rk else None}
    return out


def run_builtin(profile_name: str, jobs: int, quiet: bool, store_path: Path,
                out: Path) -> tuple[dict, dict[str, str]]:
    """Run the built-in methods of a profile into ``store_path`` (stored cells are kept, so
    a killed check resumes) and build its leaderboard into ``out``; (the values, the
    leaderboard's manifest)."""
    from harness.cli.commands import _warn
    from harness.core.registry import default_registry
    from harness.core.store import open_store
    from harness.report import leaderboard
    from harness.report.manifest import digests
    from harness.run import engine as runner
    from harness.run.plan import Plan, profile_cells
    from harness.run.profile import ladder_methods

    reg = default_registry()
    methods, _ = reg.load_all()
    builtin = {n: c for n, c in methods.items() if reg.entries[n].origin == "nas-harness"}
    profile, cells = profile_cells(profile_name, builtin, _warn)
    store = open_store(store_path)
    try:
        summary = runner.execute(cells, store, reg, jobs=jobs, progress=not quiet)
        if summary.failed:
            raise HarnessError(f"verify: {len(summary.failed)} {profile['name']} cells "
                               f"failed, first: {summary.failed[0]}")
        leaderboard.build(store, out, reg, profile=profile["name"], plan=Plan(cells),
                          ladder=ladder_methods(profile))
        return smoke_summary(store), digests(out)
    finally:
        store.close()


def value_drift(want: dict, got: dict) -> list[str]:
    """One line per value outside its tolerance (or missing/new)."""
    drift = []
    for key in sorted(set(want) | set(got)):
        if key not in got or key not in want:
            drift.append(f"{key}: {'missing from this run' if key not in got else 'new'}")
            continue
        tols = (PROXY_TOLERANCE if "spearman" in want[key] else ONESHOT_TOLERANCE
                if "skip_edges" in want[key] else TOLERANCE)
        for k, tol in tols.items():
            a, b = got[key].get(k), want[key].get(k)
            if a is None or b is None or (a != a and b != b):
                continue
            if abs(a - b) > tol or (a != a) != (b != b):
                drift.append(f"{key} {k}: {a} vs expected {b} (tolerance {tol})")
    return drift


def cmd_verify(args: argparse.Namespace) -> int:
    from harness.report.manifest import compare, digests

    smoke = args.against is None
    if not smoke and not Path(args.against).is_dir():
        raise ConfigError(f"--against {args.against}: no such folder; give the committed "
                          "leaderboard of the profile, e.g. --against leaderboard")
    if smoke and args.profile != "smoke":
        raise ConfigError(f"verify --profile {args.profile}: only the smoke profile has "
                          "committed expected values; compare another profile's fresh run "
                          "with its committed leaderboard: add --against leaderboard")
    if smoke and not args.update and not (EXPECTED.exists() and EXPECTED_LEADERBOARD.exists()):
        raise ConfigError(f"{EXPECTED.parent}/ lacks the expected smoke files; run "
                          "'python -m harness verify --update'")
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(args.store) if args.store else Path(tmp) / "verify.sqlite"
        got, lb = run_builtin(args.profile, args.jobs, args.quiet, store, Path(tmp) / "lb")
    if args.update and smoke:
        EXPECTED.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        EXPECTED_LEADERBOARD.write_text(json.dumps(lb, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(got)} expected values to {EXPECTED} and the sha256 of "
              f"{len(lb)} leaderboard files to {EXPECTED_LEADERBOARD}")
        return 0
    drift = value_drift(json.loads(EXPECTED.read_text()), got) if smoke else []
    want_lb = (json.loads(EXPECTED_LEADERBOARD.read_text()) if smoke
               else digests(args.against))
    changed = compare(want_lb, lb)
    for d in drift:
        print(f"DRIFT {d}", file=sys.stderr)
    for c in changed:
        print(f"NOT REPRODUCED {c}", file=sys.stderr)
    reference = EXPECTED_LEADERBOARD.name if smoke else f"{args.against}/"
    if drift or changed:
        what = [f"{len(drift)} values drifted from {EXPECTED.name}"] if drift else []
        what += [f"{len(changed)} leaderboard files differ from {reference} (timings "
                 "excluded)"] if changed else []
        raise HarnessError("verify: " + " and ".join(what) + " (listed above); if the "
                           "change is intended, " + ("run 'python -m harness verify "
                                                     "--update' and commit the files" if smoke
                                                     else "regenerate and commit the "
                                                     "leaderboard"))
    if smoke:
        print(f"verify: {len(got)} smoke aggregates match {EXPECTED.name} within tolerances "
              f"{TOLERANCE} (search), {PROXY_TOLERANCE} (proxies) and {ONESHOT_TOLERANCE} "
              "(one-shot)")
    print(f"verify: the {args.profile} leaderboard regenerated byte-identically: {len(lb)} "
          f"files match {reference} (the timings folder excluded)")
    return 0


def add_parser(sub) -> None:
    x = sub.add_parser(
        "verify", help="reproduction check: a fresh run against committed values and bytes",
        description="Run a profile's built-in methods into a fresh store, build its "
                    "leaderboard and compare: the smoke profile with the committed expected "
                    "values and leaderboard manifest (CI), or any profile with a committed "
                    "leaderboard folder (--against). Only the timings folder may differ.")
    x.add_argument("--profile", default="smoke", help="the profile to run (default: smoke)")
    x.add_argument("--against", metavar="DIR",
                   help="compare with this committed leaderboard folder instead of the smoke "
                        "manifest, e.g. --profile default --against leaderboard")
    x.add_argument("--store", metavar="PATH",
                   help="keep the fresh run's rows in this store (a killed check resumes "
                        "from it; default: a temporary store)")
    x.add_argument("--update", action="store_true",
                   help="rewrite the smoke profile's expected values and leaderboard manifest")
    x.add_argument("--jobs", type=int, default=1)
    x.add_argument("--quiet", action="store_true")
    x.set_defaults(func=cmd_verify)
