"""Repository contracts: the README's two commands and CI's use of the test command."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [ln.split("#")[0].strip() for ln in block.strip().splitlines()]


def test_readme_starts_with_two_setup_commands():
    text = (REPO / "README.md").read_text()
    first_lines = [ln for ln in text.splitlines() if ln.strip()][:2]
    assert first_lines[0].startswith("# ") and first_lines[1] == "```bash"
    cmds = _readme_commands()
    assert len(cmds) == 2
    assert "tox -e run" in cmds[0] and "tox -e tests" in cmds[1]
    tox = (REPO / "tox.ini").read_text()
    assert "python -m harness run --all" in tox.split("[testenv:run]")[1]


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in [ln.strip() for ln in ci]


def test_the_readme_is_a_front_page_that_links_every_docs_page():
    """Issue 28: a README a newcomer reads in five minutes (<= 150 lines); the reference
    lives in docs/, one page per topic, each linked from the README."""
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    pages = sorted(p.name for p in (REPO / "docs").glob("*.md"))
    assert {"running.md", "data.md", "search.md", "proxies.md", "oneshot.md",
            "leaderboard.md", "cluster.md", "plugins.md", "trust.md", "speed.md",
            "architecture.md"} <= set(pages)
    assert [p for p in pages if f"](docs/{p})" not in text] == []
