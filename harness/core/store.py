"""Append-only, crash-safe results store (SQLite in WAL mode).

One row per cell keyed by (method, method version, benchmark, data sha256, dataset, seed,
budget). A row is written in one transaction when its cell finishes, so a killed run leaves
only whole rows, and ``INSERT OR IGNORE`` on the key means concurrent runs on one store
never duplicate a cell. Re-running skips cells already stored: ``run --all`` resumes.
"""

from __future__ import annotations

import json
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
                             "seconds_per_epoch", "median_seconds", "gpu_hours"})


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
        try:
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
            if isinstance(v, (dict, list)):
                v = json.dumps(v, sort_keys=True, separators=(",", ":"))
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
                    d[c] = json.loads(d[c])
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


def open_store(path: str | Path) -> ResultStore:
    return ResultStore(path)
