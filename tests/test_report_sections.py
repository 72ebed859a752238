"""The leaderboard's section registry (issue 28): one page per section with content, an
index with every page's contents and the headline tables, stale pages removed."""

from __future__ import annotations

from harness.report.sections import SECTIONS, first_table, headings, write_pages

TABLE = "| method | cifar10 |\n|---|---|\n| rea | 94.16 |\n| random | 93.83 |"


def _parts(**markdown: str) -> dict:
    return {s.name: {"markdown": markdown.get(s.name.replace("-", "_"), ""), "html": ""}
            for s in SECTIONS}


def test_first_table_and_headings():
    md = f"### nb201: search\n\ncaption\n\n{TABLE}\n\n### second\n\n| a |\n|---|\n| 1 |\n"
    assert headings(md) == ["nb201: search", "second"]
    assert first_table(md) == ("nb201: search", TABLE)
    assert first_table("### no table here\n\ntext\n") is None


def test_pages_index_and_stale_pages(tmp_path):
    (tmp_path / "ladder.md").write_text("a page of an earlier build")
    written = write_pages(_parts(search=f"### nb201: search\n\n{TABLE}\n",
                                 proxies="### Zero-cost proxies on X\n\nno table\n"),
                          "# header\n", tmp_path)
    # sections with content get a page, the survey's page is always written, and the
    # ladder page of the earlier build is gone now that the section is empty
    assert written == ["search.md", "proxies.md", "survey.md"]
    assert not (tmp_path / "ladder.md").exists()
    page = (tmp_path / "search.md").read_text()
    assert page.startswith("# Search strategies\n\n[Leaderboard index](README.md)\n\n### nb201")
    index = (tmp_path / "README.md").read_text()
    assert index.startswith("# header\n")
    assert "- [Search strategies](search.md): nb201: search" in index
    assert "- [Zero-cost proxies (survey Table 3)](proxies.md): Zero-cost proxies on X" in index
    # the headline: the first table of a headline section, under its heading
    head = index.split("## Headline tables", 1)[1]
    assert f"### nb201: search\n\nFrom [Search strategies](search.md).\n\n{TABLE}" in head
    assert "no table" not in head


def test_every_section_is_registered_once_with_a_page_name():
    names = [s.name for s in SECTIONS]
    assert len(set(names)) == len(names)
    assert all(n.replace("-", "").isalpha() and n not in ("README", "claims") for n in names)
    assert all(callable(s.build) for s in SECTIONS)
