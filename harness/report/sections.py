"""The leaderboard's sections, registered in one place, and the Markdown pages they become.

A section is one module with a function ``section(inputs) -> part`` (``inputs``: a
:class:`ReportInputs`; ``part``: a dict with ``markdown``, ``html`` and optionally
``figures``, ``captions``, ``tables``, ``records``), registered in :data:`SECTIONS` with its
page name and title. :func:`harness.report.leaderboard.build` runs every registered section
in order, writes each section that has content as its own page ``<name>.md``, writes the
index ``README.md`` (the contents of every page and the headline tables of the sections
marked ``headline``) and puts every section on the one-page site ``index.html``. Adding a
section is one module plus one line here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ReportInputs:
    """What every section is built from (the store's rows of the plan, the specs and the
    reference file); nothing machine- or time-dependent."""

    rows: list[dict]
    search_rows: list[dict]  # plain search rows: not training-free, hardware or warm starts
    agg: list[dict]  # harness.report.leaderboard.aggregate_search(search_rows)
    specs: dict
    refs: dict
    out: Path
    plan: Any = None
    ladder: list[str] | None = None


@dataclass(frozen=True)
class Section:
    """A registered section: ``name`` is its page (``<name>.md``) and its key among the
    parts; ``headline``: its first table goes on the index page; ``always``: its page is
    written even when it has no content (it then says why)."""

    name: str
    title: str
    build: Callable[[ReportInputs], dict[str, Any]]
    headline: bool = False
    always: bool = False


def _search(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import search_tables

    return search_tables.section(inputs)


def _training_free(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import training_free

    return training_free.section(inputs.rows, inputs.specs, inputs.refs, inputs.out)


def _warm_start(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import warm_start

    return warm_start.section(inputs.rows, inputs.out)


def _targets(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import targets

    return targets.section(inputs.search_rows)


def _hardware(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import pareto

    return pareto.section(inputs.out, inputs.rows)


def _proxies(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import proxies

    return proxies.build_section(inputs.rows, inputs.specs, inputs.refs, inputs.out)


def _oneshot(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import oneshot

    return oneshot.build_section(inputs.rows, inputs.specs, inputs.refs, inputs.out,
                                 inputs.plan)


def _ladder(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import ladder

    return ladder.section(inputs.ladder, inputs.out)


def _survey(inputs: ReportInputs) -> dict[str, Any]:
    from harness.report import survey

    return survey.build_section(inputs.rows, inputs.specs, inputs.refs, inputs.out)


#: every section of the leaderboard, in page order
SECTIONS: list[Section] = [
    Section("search", "Search strategies", _search, headline=True),
    Section("training-free", "Training-free search", _training_free),
    Section("warm-start", "Proxy-warm-started search", _warm_start),
    Section("targets", "Budget to target", _targets),
    Section("hardware", "Hardware-aware NAS", _hardware),
    Section("proxies", "Zero-cost proxies (survey Table 3)", _proxies, headline=True),
    Section("oneshot", "Weight-sharing and differentiable NAS", _oneshot, headline=True),
    Section("ladder", "The one-shot fidelity ladder", _ladder),
    Section("survey", "The survey's Tables 1 and 2", _survey, headline=True, always=True),
]

#: a GitHub-style table of Markdown (header, separator, rows)
_TABLE = re.compile(r"^\|.*\|\n\|[-:| ]+\|\n(?:\|.*\|\n?)+", re.M)


def headings(markdown: str) -> list[str]:
    """The section's ``###`` headings, as the site's contents list shows them."""
    return re.findall(r"^### (.+)$", markdown, re.M)


def first_table(markdown: str) -> tuple[str, str] | None:
    """(heading above it, table) of the first table of a section's Markdown."""
    m = _TABLE.search(markdown)
    if m is None:
        return None
    above = headings(markdown[:m.start()])
    return (above[-1] if above else ""), m.group(0).rstrip("\n")


def write_pages(parts: dict[str, dict[str, Any]], header: str, out: Path) -> list[str]:
    """Write one page per registered section with content and the index README.md; remove
    pages of sections that have none now. Returns the pages written."""
    written, contents, headline = [], [], []
    for sec in SECTIONS:
        page = out / f"{sec.name}.md"
        md = parts[sec.name]["markdown"]
        if not md and not sec.always:
            page.unlink(missing_ok=True)
            continue
        page.write_text(f"# {sec.title}\n\n[Leaderboard index](README.md)\n\n{md}".rstrip()
                        + "\n")
        written.append(page.name)
        titles = headings(md)
        contents.append(f"- [{sec.title}]({page.name})"
                        + (f": {'; '.join(titles)}" if titles else ""))
        got = first_table(md) if sec.headline else None
        if got:
            title, table = got
            headline += [f"### {title or sec.title}", "", f"From [{sec.title}]({page.name}).",
                         "", table, ""]
    index = [header, "## Pages", "", *contents, "", "## Headline tables", "", *headline]
    (out / "README.md").write_text("\n".join(index).rstrip() + "\n")
    return written
