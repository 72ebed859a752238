"""The package's shape: no import cycles (top-level or inside functions), every module
imports on its own in a fresh interpreter, no module over ~400 lines."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "adapters", "methods")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in sorted((REPO / pkg).rglob("*.py")):
            parts = p.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = p
    return out


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never executed)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                todo.extend(child.orelse)
                continue
            todo.append(child)


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """Project modules ``name`` imports anywhere in its file (lazy imports included; those
    under ``if TYPE_CHECKING:``, annotations only, excluded)."""
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in mods else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in mods and m != name and not name.startswith(m + ".")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path [a, b, ..., a], or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state and (c := visit(w)):
                return c
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state and (c := visit(v)):
            return c
    return None


def test_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_even_through_lazy_imports():
    mods = _modules()
    graph = {m: _imports(m, p, mods) for m, p in mods.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_no_module_over_about_400_lines():
    long = {m: n for m, p in _modules().items()
            if (n := len(p.read_text().splitlines())) > 420}
    assert not long, long


@pytest.mark.parametrize("pkg", ["harness", "adapters"])
def test_every_module_imports_on_its_own(pkg):
    names = [m for m in _modules() if m.split(".")[0] == pkg]

    def imp(m: str) -> tuple[str, str]:
        proc = subprocess.run([sys.executable, "-c", f"import {m}"], capture_output=True,
                              text=True, cwd=str(REPO), timeout=300)
        return m, proc.stderr.strip().splitlines()[-1] if proc.returncode else ""

    with ThreadPoolExecutor(max_workers=2) as ex:
        failed = {m: err for m, err in ex.map(imp, names) if err}
    assert not failed, failed


# ---- harness/ is laid out by concern -----------------------------------------------------
#: the only modules directly in harness/ (the rest live in subpackages)
TOP_LEVEL = {"__init__", "__main__", "api", "testing"}


def _subpackages() -> list[str]:
    return sorted(p.name for p in (REPO / "harness").iterdir()
                  if p.is_dir() and (p / "__init__.py").exists())


def test_harness_holds_subpackages_only():
    loose = {p.stem for p in (REPO / "harness").glob("*.py")} - TOP_LEVEL
    assert not loose, f"modules outside a subpackage: {sorted(loose)}"
    assert {"core", "data", "search", "proxies", "oneshot", "run", "report",
            "cli"} <= set(_subpackages())


def _allowed(pkg: str) -> set[str]:
    """The subpackages ``pkg``'s ``__init__`` docstring says it may import."""
    doc = ast.get_docstring(ast.parse((REPO / "harness" / pkg / "__init__.py").read_text()))
    assert doc and "May import" in doc, f"harness/{pkg}/__init__.py must say what it may import"
    text = doc[doc.index("May import"):]
    if "every other subpackage" in text:
        return set(_subpackages()) | {"api", "testing"}
    return {m.split(".")[1] for m in re.findall(r"``(harness\.[a-z_]+)``", text)}


def test_each_subpackage_imports_only_what_its_docstring_allows():
    mods = _modules()
    bad = []
    for pkg in _subpackages():
        allowed = _allowed(pkg) | {pkg}
        for m, p in mods.items():
            if not m.startswith(f"harness.{pkg}"):
                continue
            for dep in _imports(m, p, mods):
                parts = dep.split(".")
                if parts[0] == "harness" and len(parts) > 1 and parts[1] not in allowed:
                    bad.append(f"{m} imports {dep}")
    assert not bad, bad


def test_public_modules_import_only_the_core():
    """``harness.api`` is what plugins build on: it must not drag the engine in."""
    mods = _modules()
    deps = {d.split(".")[1] for d in _imports("harness.api", mods["harness.api"], mods)
            if d.startswith("harness.")}
    assert deps <= {"core", "proxies"}, deps  # proxies: the shared passes, imported lazily
