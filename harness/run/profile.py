"""Profiles: the JSON files that size a run (``harness/profiles/*.json`` or any path),
loaded and validated so a malformed one is refused in one line naming the key."""

from __future__ import annotations

import json
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
        raise ConfigError(f"profile file {path} not found")
    try:
        prof = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"profile {path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                          "fix the file") from None
    _validate_profile(prof, str(path))
    prof.setdefault("name", path.stem)
    return prof


def _validate_profile(prof: Any, where: str) -> None:
    def bad(msg: str) -> ConfigError:
        return ConfigError(f"profile {where}: {msg}; see harness/profiles/default.json")

    if not isinstance(prof, dict):
        raise bad("must be a JSON object")
    if not isinstance(prof.get("experiment_seed"), int):
        raise bad("'experiment_seed' must be an integer")
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
        m = px.get("minutes")
        if m is not None and (isinstance(m, bool) or not isinstance(m, (int, float)) or m < 0):
            raise bad("'proxies.minutes' must be a number of minutes >= 0 (0: no time box)")
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
        m = one.get("minutes")
        if m is not None and (isinstance(m, bool) or not isinstance(m, (int, float)) or m < 0):
            raise bad("'oneshot.minutes' must be a number of minutes >= 0 (0: no time box)")
        if not isinstance(one.get("order", []), list):
            raise bad("'oneshot.order' must be a list of method names")
        config_from_profile(one, where)
    sec = prof.get("search")
    if sec is not None:
        if not isinstance(sec, dict):
            raise bad("'search' must be an object")
        if not isinstance(sec.get("seeds"), int) or sec["seeds"] < 1:
            raise bad("'search.seeds' must be a positive integer")
        if not isinstance(sec.get("budget"), dict):
            raise bad("'search.budget' must be an object like {\"queries\": 100}")
        Budget(**sec["budget"])
        if not isinstance(sec.get("benchmarks"), dict) or not all(
                isinstance(v, list) for v in sec["benchmarks"].values()):
            raise bad("'search.benchmarks' must map benchmark names to lists of datasets")
