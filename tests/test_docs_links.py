"""Every relative link of the README and the docs/ pages resolves to a file or folder of
the repository, and every #anchor into a Markdown page to one of its headings (issue 28: a
newcomer's links never dead-end); web links are not fetched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    """The page's markdown link targets that point into the repository (no scheme, not a
    bare #anchor), without their #anchor."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # code is not a link
    out = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        out.append(target.split("#", 1)[0])
    return out


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def anchor_links(page: Path) -> list[tuple[Path, str]]:
    """(target page, anchor) of every link with an #anchor into a Markdown page."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    out = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or "#" not in target:
            continue
        path, anchor = target.split("#", 1)
        dest = (page.parent / path) if path else page
        if dest.suffix == ".md":
            out.append((dest, anchor))
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_anchor_resolves(page):
    bad = [f"{d.name}#{a}" for d, a in anchor_links(page) if a not in anchors(d)]
    assert bad == [], f"{page.relative_to(ROOT)} links to missing anchors {bad}"


def test_slugs_follow_github():
    assert slug("BANANAS: 40-step fits (method version 2)") == \
        "bananas-40-step-fits-method-version-2"
    assert slug("Hyperparameters, item by item") == "hyperparameters-item-by-item"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    missing = [t for t in relative_links(page) if not (page.parent / t).exists()]
    assert missing == [], f"{page.relative_to(ROOT)} links to missing {missing}"


def test_the_link_pattern_finds_links_and_skips_web_and_code(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("[a](docs/x.md#y) [b](https://e.org) [c](#top)\n```\n[d](no.md)\n```\n")
    assert relative_links(page) == ["docs/x.md"]
