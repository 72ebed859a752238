"""The package's shape: no import cycles (top-level or inside functions), every module
imports on its own in a fresh interpreter, no module over ~400 lines."""

from __future__ import annotations

import ast
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


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """Project modules ``name`` imports anywhere in its file (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
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
