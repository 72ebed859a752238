"""Append-only, crash-safe results store (SQLite in WAL mode).

One row per cell keyed by (method, method version, benchmark, data sha256, dataset, seed,
budget). A row is written in one transaction when its cell finishes, so a killed run leaves
only whole rows, and ``INSERT OR IGNORE`` on the key means concurrent runs on one store
never duplicate a cell. Re-running skips cells already stored: ``run --all`` resumes.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError

KEY = ("method", "method_version", "benchmark", "data_sha256", "dataset", "seed", "budget")
COLUMNS = KEY + (
    "kind", "search_on", "report_on", "note", "incumbent", "search_value", "test_value",
    "queries_used", "sim_seconds_used", "wall_seconds", "config", "result",
    "package_version", "git_commit", "python", "numpy", "torch", "device", "host",
    "started", "finished",
)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS results (
  {", ".join(f"{c} {'INTEGER' if c == 'seed' else 'TEXT'}" for c in COLUMNS)},
  PRIMARY KEY ({", ".join(KEY)})
);
"""
#: columns that differ between two identical runs (ignored when comparing stores)
VOLATILE = ("wall_seconds", "host", "started", "finished", "git_commit", "device")
#: keys inside the JSON columns that are measured times (differ between identical runs)
VOLATILE_FIELDS = frozenset({"seconds", "search_seconds", "derive_seconds",
                             "seconds_per_epoch", "median_seconds", "gpu_hours",
                             # how the cell was run, not what it computed (--batch-seeds)
                             "batched_seeds"})


#: key of the JSON objects that lists where non-finite numbers were (JSON has no NaN/inf)
NONFINITE = "_nonfinite"


def _esc(k: Any) -> str:
    return str(k).replace("~", "~0").replace("/", "~1")


def _safe(v: Any, path: str, flags: dict[str, str]) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        flags[path] = repr(v)  # 'nan', 'inf' or '-inf'
        return None
    if isinstance(v, dict):
        return {k: _safe(x, f"{path}/{_esc(k)}", flags) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_safe(x, f"{path}/{i}", flags) for i, x in enumerate(v)]
    return v


def json_safe(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with every NaN/inf at any depth replaced by null and listed, by JSON-pointer
    path, under :data:`NONFINITE` (strict JSON: no bare ``NaN`` tokens)."""
    flags: dict[str, str] = {}
    out = _safe(obj, "", flags)
    if flags:
        out[NONFINITE] = flags
    return out


def json_restore(obj: Any) -> Any:
    """The inverse of :func:`json_safe`: the listed nulls become NaN/inf again."""
    if not isinstance(obj, dict) or NONFINITE not in obj:
        return obj
    for path, kind in obj.pop(NONFINITE).items():
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        node = obj
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = float(kind)
        else:
            node[last] = float(kind)
    return obj


def _strip_times(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip_times(x) for k, x in v.items() if k not in VOLATILE_FIELDS}
    if isinstance(v, list):
        return [_strip_times(x) for x in v]
    return v


def without_volatile(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` without the columns and nested times that differ between two identical runs
    (wall-clock times, host, commit, device name): what must match across executors."""
    return {c: _strip_times(v) for c, v in row.items() if c not in VOLATILE}


class ResultStore:
    """A results database; safe to share between processes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.parent.exists():
            raise ConfigError(f"store {self.path}: folder {self.path.parent} does not exist; "
                              "create it or choose another --store")
        if self.path.is_dir():
            raise ConfigError(f"store {self.path} is a folder; give a file, e.g. "
                              f"{self.path / 'results.sqlite'}")
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            if existed:
                check_store_file(self.path)  # before anything is written to it
            self._con = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"store {self.path} is not a results database ({exc}); choose "
                              "another --store or delete the file") from None

    def keys(self) -> set[tuple]:
        cur = self._con.execute(f"SELECT {', '.join(KEY)} FROM results")
        return {tuple(r) for r in cur.fetchall()}

    def insert(self, row: dict[str, Any]) -> bool:
        """Insert a finished cell; False if it was already stored (by this or another run)."""
        vals = []
        for c in COLUMNS:
            v = row.get(c)
            if isinstance(v, (dict, list)):  # strict JSON: NaN/inf as flagged nulls
                v = json.dumps(json_safe(v) if isinstance(v, dict) else v, sort_keys=True,
                               separators=(",", ":"), allow_nan=False)
            elif v is not None and c not in ("seed",) and not isinstance(v, str):
                v = repr(v) if isinstance(v, float) else str(v)
            vals.append(v)
        cur = self._con.execute(
            f"INSERT OR IGNORE INTO results ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))})", vals)
        return cur.rowcount == 1

    def rows(self, where: str = "", params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cur = self._con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM results {where} ORDER BY {', '.join(KEY)}",
            tuple(params))
        out = []
        for r in cur.fetchall():
            d = dict(zip(COLUMNS, r, strict=True))
            for c in ("config", "result"):
                if d[c]:
                    d[c] = json_restore(json.loads(d[c]))
            for c in ("search_value", "test_value", "sim_seconds_used", "wall_seconds"):
                if d[c] is not None:
                    d[c] = float(d[c])
            if d["incumbent"] is not None:
                d["incumbent"] = int(d["incumbent"])
            if d["queries_used"] is not None:
                q = float(d["queries_used"])
                d["queries_used"] = int(q) if q.is_integer() else q
            out.append(d)
        return out

    def integrity(self) -> str:
        return str(self._con.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self._con.close()


#: tables a harness store may hold (results; the proxy score cache)
STORE_TABLES = {"results", "proxy_scores"}


def check_store_file(path: Path) -> None:
    """Refuse, untouched, a file that is not a harness store: not SQLite, another
    application's database, a results table of another schema, or failing SQLite's
    integrity check."""
    uri = f"file:{path}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=60)
        try:
            tables = {r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
            ok = str(con.execute("PRAGMA quick_check").fetchone()[0])
            cols = [r[1] for r in con.execute("PRAGMA table_info(results)")]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"store {path} is not a results database ({exc}); choose another "
                          "--store or delete the file") from None
    if ok != "ok":
        raise ConfigError(f"store {path} is damaged (SQLite integrity check: {ok[:80]}); "
                          "restore it from a copy, or export what is readable and start a new "
                          "--store")
    foreign = tables - STORE_TABLES
    if foreign or (tables and "results" not in tables):
        raise ConfigError(f"store {path} is another application's database (tables "
                          f"{sorted(tables)[:5]}); it was left untouched: choose another "
                          "--store")
    if cols and tuple(cols) != COLUMNS:
        raise ConfigError(f"store {path} has a results table of another schema ({len(cols)} "
                          f"columns, this harness writes {len(COLUMNS)}); it was left "
                          "untouched: choose another --store")


def open_store(path: str | Path) -> ResultStore:
    return ResultStore(path)
