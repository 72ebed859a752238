"""A lazy, typed registry of methods filled from the entry-point group ``harness.methods``.

Built-in methods are declared in this project's own ``pyproject.toml`` under that group,
exactly like third-party plugins; nothing is imported until a method is used. A plugin that
fails to import is reported by name and skipped by ``run --all``; unknown names fail with a
"did you mean" hint.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
from dataclasses import dataclass
from typing import Any

from harness.api import Method
from harness.core.errors import MethodError, unknown

GROUP = "harness.methods"


@dataclass(frozen=True)
class Entry:
    """One declared method: its name, ``module:attr`` target and distribution."""

    name: str
    value: str
    origin: str

    def load(self) -> type[Method]:
        module, _, attr = self.value.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in attr.split(".") if attr else []:
                obj = getattr(obj, part)
        except (Exception, SystemExit) as exc:  # a plugin exiting at import fails alone
            raise MethodError(
                f"method '{self.name}' from package '{self.origin}' failed to import "
                f"({type(exc).__name__}: {exc}); fix or uninstall that package") from None
        if not (isinstance(obj, type) and issubclass(obj, Method)):
            raise MethodError(f"method '{self.name}' from package '{self.origin}' is not a "
                              "harness.api.Method subclass; fix its entry point")
        return obj


def _entry_points() -> list[Entry]:
    out = []
    for ep in md.entry_points(group=GROUP):
        dist = getattr(ep, "dist", None)
        out.append(Entry(ep.name, ep.value, dist.metadata["Name"] if dist else "unknown"))
    return out


class Registry:
    """Methods by name; classes are imported on first use and cached."""

    def __init__(self, entries: list[Entry] | None = None):
        self._entries_given = entries
        self._entries: dict[str, Entry] | None = None
        self._loaded: dict[str, type[Method]] = {}
        self.duplicates: list[Entry] = []

    @property
    def entries(self) -> dict[str, Entry]:
        if self._entries is None:
            found = self._entries_given if self._entries_given is not None else _entry_points()
            self._entries = {}
            for e in found:
                if e.name in self._entries and self._entries[e.name].value != e.value:
                    self.duplicates.append(e)
                    continue
                self._entries.setdefault(e.name, e)
        return self._entries

    def names(self) -> list[str]:
        return sorted(self.entries)

    def get(self, name: str) -> type[Method]:
        if name not in self.entries:
            raise unknown("method", name, self.entries)
        if name not in self._loaded:
            self._loaded[name] = self.entries[name].load()
        return self._loaded[name]

    def info(self, name: str) -> dict[str, Any]:
        cls = self.get(name)
        return {"name": name, "kind": cls.kind, "version": cls.version,
                "needs_gpu": bool(cls.needs_gpu), "origin": self.entries[name].origin,
                "target": self.entries[name].value,
                "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""}

    def load_all(self) -> tuple[dict[str, type[Method]], list[str]]:
        """Every method that imports, plus one error line per method that does not."""
        ok: dict[str, type[Method]] = {}
        errors: list[str] = []
        for name in self.names():
            try:
                ok[name] = self.get(name)
            except MethodError as exc:
                errors.append(str(exc))
        for e in self.duplicates:
            errors.append(f"method '{e.name}' from package '{e.origin}' duplicates an "
                          f"existing name and was skipped; rename its entry point")
        return ok, errors


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry()
    return _DEFAULT
