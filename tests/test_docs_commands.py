"""Every command in the README and the docs/ pages is checked (issue 28): the plugin
tutorial's Python runs, every `python -m harness ...` line parses with the real CLI parser
and the cheap ones run, scripts, tox environments, extras and test paths exist, TOML and
JSON blocks parse. A command a newcomer copies never fails on a typo or a renamed option."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from harness.cli.app import build_parser
from harness.core.errors import HarnessError

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([a-z]*)\n(.*?)^```", re.S | re.M)
#: programs a shell line in the docs may start with, besides those checked below
OTHER_PROGRAMS = {"export", "ray", "cd", ".", "ls", "git"}
#: `python -m harness` commands cheap enough to run for real (seconds, no run, no write)
RUN_FOR_REAL = (("list",), ("data", "list"), ("query",), ("--help",))


def blocks(page: Path) -> list[tuple[str, str]]:
    """(language, text) of every fenced block of a page."""
    return FENCE.findall(page.read_text())


def shell_commands(text: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments dropped, `&&` and
    `;` chains split."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise AssertionError(f"unparseable shell line {line!r}: {exc}") from None
        cmd: list[str] = []
        for w in [*words, "&&"]:
            if w in ("&&", ";", "||"):
                if cmd:
                    out.append(shlex.join(cmd))
                cmd = []
            else:
                cmd.append(w)
    return out


def tox_envs() -> set[str]:
    text = (ROOT / "tox.ini").read_text()
    return set(re.findall(r"^\[testenv:([\w-]+)\]", text, re.M)) | {"tests", "lint"}


def extras() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(meta["project"]["optional-dependencies"])


def check_shell(cmd: str, env: dict | None = None) -> str | None:
    """None when the command is fine, else why not. Runs the cheap harness commands (in
    ``env``)."""
    words = shlex.split(cmd)
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):  # VAR=value prefixes
        words = words[1:]
    prog, args = words[0], words[1:]
    if prog in ("python", "python3") and args[:2] == ["-m", "harness"]:
        argv = args[2:]
        try:
            build_parser().parse_args(argv)
        except HarnessError as exc:
            return f"does not parse: {exc}"
        except SystemExit as exc:  # --help / --version
            if exc.code:
                return f"argparse exit {exc.code}"
        if any(tuple(argv[:len(c)]) == c for c in RUN_FOR_REAL):
            r = subprocess.run([sys.executable, "-m", "harness", *argv], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                return f"exit {r.returncode}: {r.stderr.strip()[-300:]}"
        return None
    if prog in ("python", "python3") and args[:2] == ["-m", "pip"]:
        args = args[2:]
        prog = "pip"
    if prog in ("python", "python3") and args[:1] == ["-m"] and args[1:2] == ["venv"]:
        return None
    if prog in ("python", "python3"):
        script = next((a for a in args if a.endswith(".py")), None)
        return None if script and (ROOT / script).exists() else f"no script {script}"
    if prog == "pip":
        for a in args:
            m = re.search(r"\[([\w,-]+)\]", a)
            if m and (bad := set(m.group(1).split(",")) - extras()):
                return f"unknown extras {sorted(bad)}"
            if a.startswith(("tests/", "./")) and not (ROOT / a).exists():
                return f"no folder {a}"
        return None
    if prog == "tox":
        env = args[args.index("-e") + 1] if "-e" in args else None
        return None if env is None or env in tox_envs() else f"no tox env {env}"
    if prog in ("pytest", "bash"):
        paths = [a.split("::")[0] for a in args if "/" in a and not a.startswith("-")]
        missing = [p for p in paths if not (ROOT / p).exists()]
        return f"missing {missing}" if missing else None
    return None if prog in OTHER_PROGRAMS else f"unknown program {prog!r} (add it here)"


def commands() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        for lang, text in blocks(page):
            if lang in ("bash", "sh", "shell"):
                out += [(str(page.relative_to(ROOT)), c) for c in shell_commands(text)]
    return out


@pytest.mark.parametrize("page,cmd", commands(), ids=lambda v: v[:70])
def test_every_shell_command_is_valid(page, cmd, data_root, harness_home):
    env = {**os.environ, "NAS_HARNESS_DATA": str(data_root),
           "NAS_HARNESS_HOME": str(harness_home), "PYTHONPATH": str(ROOT)}
    why = check_shell(cmd, env)
    assert why is None, f"{page}: `{cmd}`: {why}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_parse(page):
    for lang, text in blocks(page):
        if lang == "python":
            compile(text, str(page), "exec")
        elif lang == "toml":
            tomllib.loads(text)
        elif lang == "json":
            json.loads(text)
        else:
            assert lang in ("bash", "sh", "text", ""), f"{page.name}: untested block {lang!r}"


def test_the_plugin_tutorial_runs(nb201):
    """docs/plugins.md's Python blocks, in order, in one namespace: its own asserts check
    what each method passed (check_method / check_oneshot) and the proxy's rank
    correlation with the table."""
    ns: dict = {}
    page = ROOT / "docs" / "plugins.md"
    code = [t for lang, t in blocks(page) if lang == "python"]
    assert len(code) >= 6
    for text in code:
        exec(compile(text, str(page), "exec"), ns)  # noqa: S102 - the page is ours
    assert {"BestOfTenThenMutate", "GradAbs", "UniformPaths"} <= set(ns)
    assert ns["rho"] > 0.3


def test_the_tutorial_entry_points_name_its_classes():
    page = ROOT / "docs" / "plugins.md"
    toml = next(t for lang, t in blocks(page) if lang == "toml")
    eps = tomllib.loads(toml)["project"]["entry-points"]["harness.methods"]
    assert {v.split(":")[1] for v in eps.values()} == {"BestOfTenThenMutate", "GradAbs",
                                                        "UniformPaths"}


def test_the_checker_catches_bad_commands():
    assert check_shell("python -m harness run --all --profile smoke") is None
    assert "does not parse" in check_shell("python -m harness run --no-such-option")
    assert "does not parse" in check_shell("python -m harness frobnicate")
    assert "no tox env" in check_shell("tox -e nonsense")
    assert "unknown extras" in check_shell("pip install -e '.[nonsense]'")
    assert "no script" in check_shell("python tests/bench/nope.py")
    assert "unknown program" in check_shell("curl https://example.org")
    assert shell_commands("a x \\\n  --y # c\nb && c") == ["a x --y", "b", "c"]
