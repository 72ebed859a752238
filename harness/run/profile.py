"""Profiles: the JSON files that size a run (``harness/run/profiles/*.json`` or any path),
loaded and validated so a malformed one is refused in one line naming the key."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from harness.core.budget import Budget
from harness.core.errors import ConfigError

PROFILE_DIR = Path(__file__).with_name("profiles")


# ---- profiles -----------------------------------------------------------------------------
def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json"))


def load_profile(name_or_path: str) -> dict[str, Any]:
    """A built-in profile by name, or a JSON file; ConfigError if malformed."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.json"
        if not path.exists():
            from harness.core.errors import unknown

            raise unknown("profile", name_or_path, profile_names())
    if not path.exists():
        raise ConfigError(f"profile file {path} not found; give a built-in profile "
                          f"({', '.join(profile_names())}) or the path of a JSON file")
    try:
        prof = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"profile {path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                          "fix the file") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"profile {path} cannot be read as text ({type(exc).__name__}); give "
                          "a JSON profile file") from None
    _validate_profile(prof, str(path))
    prof.setdefault("name", path.stem)
    return prof


#: the keys a profile may have, per section (anything else is a typo: refused, named)
KEYS = {
    "": {"name", "description", "experiment_seed", "search", "proxies", "oneshot"},
    "search": {"seeds", "budget", "budget_with_times", "benchmarks", "training_free",
               "warm_start", "hardware"},
    "proxies": {"archs", "seeds", "batch_size", "published", "benchmarks", "published_only"},
    "oneshot": {"seeds", "benchmarks", "configuration", "hyperparameters", "ranking", "order",
                "ladder", "also"},
}
#: wall-clock time boxes are run options, never profile keys: what a profile reports must
#: not depend on how fast the machine is (the leaderboard regenerates byte-identically)
TIME_BOXES = {("proxies", "minutes"): "--proxy-minutes", ("oneshot", "minutes"):
              "--oneshot-minutes"}
#: the most seeds a profile may ask for per method and dataset
MAX_SEEDS = 100_000


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _budget(spec: Any, key: str, bad, training_free: bool = False) -> Budget:
    """A budget object of a profile, every key and value checked (named by ``key``); a
    training-free budget also has 'scored' and 'scores'."""
    if not isinstance(spec, dict) or not spec:
        raise bad(f"'{key}' must be an object like {{\"queries\": 100}}")
    allowed = {"queries", "sim_seconds"} | ({"scored", "scores"} if training_free else set())
    unknown_keys = set(spec) - allowed
    if unknown_keys:
        raise bad(f"'{key}' has unknown key(s) {sorted(unknown_keys)}; a budget has "
                  f"{' and/or '.join(repr(k) for k in sorted(allowed))}")
    if training_free:
        from harness.search.scores import choices, known

        n, table = spec.get("scored"), spec.get("scores")
        if not (_is_int(n) and 1 <= n <= 10**6):
            raise bad(f"'{key}.scored' must be a whole number of archs from 1 to 10^6, "
                      f"got {n!r}")
        if not isinstance(table, str) or not known(table):
            raise bad(f"'{key}.scores' must name a score table, one of {choices()}; "
                      f"got {table!r}")
    q = spec.get("queries")
    if q is not None and not (_is_int(q) and 1 <= q <= 10**9):
        raise bad(f"'{key}.queries' must be a whole number of queries from 1 to 10^9, got {q!r}")
    s = spec.get("sim_seconds")
    if s is not None and not (not isinstance(s, bool) and isinstance(s, (int, float))
                              and math.isfinite(s) and 0 < s <= 1e12):
        raise bad(f"'{key}.sim_seconds' must be a number of seconds from >0 to 1e12, got {s!r}")
    return Budget(**spec)


def _scored_section(tf: Any, key: str, bad) -> None:
    """A section of budgets with a score table (``search.training_free``,
    ``search.warm_start``), every key checked."""
    if not isinstance(tf, dict) or set(tf) - {"seeds", "budgets", "benchmarks"}:
        raise bad(f"'{key}' must be {{\"seeds\": n, \"budgets\": [budgets with 'scored' "
                  "and 'scores'], \"benchmarks\": {...}}")
    if not (_is_int(tf.get("seeds")) and 1 <= tf["seeds"] <= MAX_SEEDS):
        raise bad(f"'{key}.seeds' must be a whole number from 1 to {MAX_SEEDS}")
    if not isinstance(tf.get("budgets"), list) or not tf["budgets"]:
        raise bad(f"'{key}.budgets' must be a non-empty list")
    for i, b in enumerate(tf["budgets"]):
        _budget(b, f"{key}.budgets[{i}]", bad, training_free=True)
    if not isinstance(tf.get("benchmarks"), dict) or not all(
            isinstance(v, list) for v in tf["benchmarks"].values()):
        raise bad(f"'{key}.benchmarks' must map benchmark names to lists of datasets")


def _hardware(hw: Any, bad) -> None:
    """The profile's ``search.hardware`` section, every key checked."""
    allowed = {"seeds", "budget", "objectives", "cost_quantile", "benchmarks"}
    if not isinstance(hw, dict) or set(hw) - allowed:
        raise bad(f"'search.hardware' must be an object with keys {sorted(allowed)}")
    if not (_is_int(hw.get("seeds")) and 1 <= hw["seeds"] <= MAX_SEEDS):
        raise bad(f"'search.hardware.seeds' must be a whole number from 1 to {MAX_SEEDS}")
    _budget(hw.get("budget"), "search.hardware.budget", bad)
    obj = hw.get("objectives")
    if not isinstance(obj, list) or not obj or not all(
            isinstance(o, str) and o.startswith("hw_") for o in obj):
        raise bad("'search.hardware.objectives' must be a non-empty list of the table's "
                  "device cost columns, e.g. [\"hw_pixel3_latency\"]")
    q = hw.get("cost_quantile")
    if q is not None and not (not isinstance(q, bool) and isinstance(q, (int, float))
                              and 0 < q <= 1):
        raise bad(f"'search.hardware.cost_quantile' must be a number in (0, 1], got {q!r}")
    if not isinstance(hw.get("benchmarks"), dict) or not all(
            isinstance(v, list) for v in hw["benchmarks"].values()):
        raise bad("'search.hardware.benchmarks' must map benchmark names to lists of "
                  "datasets")


def _validate_profile(prof: Any, where: str) -> None:
    def bad(msg: str) -> ConfigError:
        return ConfigError(f"profile {where}: {msg}; see harness/run/profiles/default.json")

    if not isinstance(prof, dict):
        raise bad("must be a JSON object")
    for (sec, key), option in TIME_BOXES.items():
        if isinstance(prof.get(sec), dict) and key in prof[sec]:
            raise bad(f"'{sec}.{key}' is a wall-clock time box, which no profile may hold "
                      "(what a profile reports must not depend on the machine's speed); "
                      f"delete it and pass '{option} M' to a run that should stop early")
    for sec, allowed in KEYS.items():
        obj = prof if not sec else prof.get(sec)
        if isinstance(obj, dict) and set(obj) - allowed:
            extra = sorted(set(obj) - allowed)
            from harness.core.errors import did_you_mean

            hint = did_you_mean(extra[0], allowed)
            raise bad(f"unknown key(s) {extra} in {f'{sec!r}' if sec else 'the profile'}"
                      f"{hint}; allowed: {sorted(allowed)}")
    name = prof.get("name")
    if name is not None and not (isinstance(name, str) and re.fullmatch(r"[\w.-]{1,64}", name)):
        raise bad("'name' must be 1-64 letters, digits, '.', '_' or '-' (it names the default "
                  "store file), not a path")
    if not _is_int(prof.get("experiment_seed")) or prof["experiment_seed"] < 0:
        raise bad("'experiment_seed' must be a non-negative integer")
    for sec in ("search", "proxies", "oneshot"):
        seeds = (prof.get(sec) or {}).get("seeds", 1) if isinstance(prof.get(sec), dict) else 1
        if not (_is_int(seeds) and 1 <= seeds <= MAX_SEEDS):
            raise bad(f"'{sec}.seeds' must be a whole number from 1 to {MAX_SEEDS}")
    px = prof.get("proxies")
    if px is not None:
        if not isinstance(px, dict):
            raise bad("'proxies' must be an object")
        archs = px.get("archs")
        sizes = list(archs.values()) if isinstance(archs, dict) else [archs]
        if not sizes or not all(isinstance(n, int) and n >= 3 for n in sizes):
            raise bad("'proxies.archs' must be an integer >= 3 or map each benchmark to one")
        for key in ("archs", "batch_size"):
            v = px.get(key)
            if isinstance(v, dict) and set(px.get("benchmarks", {})) - set(v):
                raise bad(f"'proxies.{key}' has no value for "
                          f"{sorted(set(px.get('benchmarks', {})) - set(v))}")
        bs = px.get("batch_size", 64)
        if not all(isinstance(n, int) and n >= 2 for n in
                   (bs.values() if isinstance(bs, dict) else [bs])):
            raise bad("'proxies.batch_size' must be an integer >= 2 or map each benchmark "
                      "to one")
        for key in ("benchmarks", "published_only"):
            if not isinstance(px.get(key, {}), dict):
                raise bad(f"'proxies.{key}' must map benchmark names to lists of datasets")
    one = prof.get("oneshot")
    if one is not None:
        from harness.oneshot.cells import config_from_profile

        if not isinstance(one, dict):
            raise bad("'oneshot' must be an object")
        if not isinstance(one.get("seeds", 1), int) or one.get("seeds", 1) < 1:
            raise bad("'oneshot.seeds' must be a positive integer")
        if not isinstance(one.get("benchmarks"), dict) or not all(
                isinstance(v, list) for v in one["benchmarks"].values()):
            raise bad("'oneshot.benchmarks' must map benchmark names to lists of datasets")
        rk = one.get("ranking", {})
        if not isinstance(rk, dict) or not isinstance(rk.get("methods", []), list) or not (
                isinstance(rk.get("archs", 3), int) and rk.get("archs", 3) >= 3):
            raise bad("'oneshot.ranking' must be {\"methods\": [names], \"archs\": n >= 3}")
        for key in ("order", "ladder"):
            if not isinstance(one.get(key, []), list) or not all(
                    isinstance(v, str) for v in one.get(key, [])):
                raise bad(f"'oneshot.{key}' must be a list of method names")
        config_from_profile(one, where)
        _also(one, where, bad)
    sec = prof.get("search")
    if sec is not None:
        if not isinstance(sec, dict):
            raise bad("'search' must be an object")
        if not isinstance(sec.get("seeds"), int) or sec["seeds"] < 1:
            raise bad("'search.seeds' must be a positive integer")
        _budget(sec.get("budget"), "search.budget", bad)
        bwt = sec.get("budget_with_times") or {}
        if not isinstance(bwt, dict):
            raise bad("'search.budget_with_times' must map datasets to budgets")
        for k, v in bwt.items():
            _budget(v, f"search.budget_with_times.{k}", bad)
        if not isinstance(sec.get("benchmarks"), dict) or not all(
                isinstance(v, list) for v in sec["benchmarks"].values()):
            raise bad("'search.benchmarks' must map benchmark names to lists of datasets")
        for name in ("training_free", "warm_start"):
            if sec.get(name) is not None:
                _scored_section(sec[name], f"search.{name}", bad)
        hw = sec.get("hardware")
        if hw is not None:
            _hardware(hw, bad)


def _also(one: dict, where: str, bad) -> None:
    """``oneshot.also``: a list of {methods, seeds?, benchmarks?, configuration}."""
    from harness.oneshot.cells import ALSO_KEYS, also_sections, config_from_profile

    also = one.get("also", [])
    if not isinstance(also, list) or not all(isinstance(a, dict) for a in also):
        raise bad("'oneshot.also' must be a list of objects with 'methods' and "
                  "'configuration' (and optionally 'seeds', 'benchmarks')")
    for i, sub in enumerate(also):
        name = f"oneshot.also[{i}]"
        if set(sub) - ALSO_KEYS:
            raise bad(f"unknown key(s) {sorted(set(sub) - ALSO_KEYS)} in '{name}'; allowed: "
                      f"{sorted(ALSO_KEYS)}")
        ms = sub.get("methods")
        if not isinstance(ms, list) or not ms or not all(isinstance(m, str) for m in ms):
            raise bad(f"'{name}.methods' must be a non-empty list of method names")
        if not _is_int(sub.get("seeds", 1)) or not 1 <= sub.get("seeds", 1) <= MAX_SEEDS:
            raise bad(f"'{name}.seeds' must be a whole number from 1 to {MAX_SEEDS}")
        if not isinstance(sub.get("benchmarks", {}), dict) or not all(
                isinstance(v, list) for v in sub.get("benchmarks", {}).values()):
            raise bad(f"'{name}.benchmarks' must map benchmark names to lists of datasets")
        if not isinstance(sub.get("configuration"), dict):
            raise bad(f"'{name}.configuration' must be an object (see the 'configuration' of "
                      "harness/run/profiles/cpu-collapse.json)")
        config_from_profile(also_sections({**one, "also": [sub]})[0], f"{where} {name}")


def ladder_methods(profile: dict[str, Any]) -> list[str]:
    """The methods whose fidelity ladder the profile's leaderboard shows
    (``oneshot.ladder``; none by default)."""
    return list((profile.get("oneshot") or {}).get("ladder") or [])
