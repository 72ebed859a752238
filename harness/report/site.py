"""The leaderboard's ``index.html`` as a small static site that works offline from ``file://``.

It takes the sections the report modules render (a heading, a caption, tables, figures) and
adds what a reader browsing them needs: a contents list with an anchor per section, tables
that sort by a click on their header (a few lines of vanilla JavaScript, no CDN), numbers
right-aligned, wide tables scrolling instead of wrapping, columns with no value in this run
hidden with a note, every figure in a ``<figure>`` with its caption and alt text, and
Markdown code spans shown as code.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:auto;padding:0 1em;color:#222}
nav{background:#f6f6f6;padding:.5em 1em;border-radius:6px}
nav li{margin:.15em 0}
.scroll{overflow-x:auto;margin:.5em 0 1.5em}
table{border-collapse:collapse;font-size:.9em}
td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
th{background:#eee;cursor:pointer;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:1em 0}figcaption{font-size:.85em;color:#555;max-width:720px}
p.hidden-note{font-size:.8em;color:#666}
code{background:#f2f2f2;padding:0 .2em}
"""

#: sorting, numeric alignment and hiding empty columns; runs on load, needs no network
SCRIPT_PATH = Path(__file__).with_name("site.js")


def slug(text: str, used: set[str]) -> str:
    """A unique anchor id for a heading."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "section"
    s, k = base, 2
    while s in used:
        s, k = f"{base}-{k}", k + 1
    used.add(s)
    return s


def _code_spans(fragment: str) -> str:
    """Markdown `code` spans in already-escaped text become <code> (tables and prose)."""
    return re.sub(r"`([^`<>]{1,200})`", r"<code>\1</code>", fragment)


def page(title: str, intro_html: str, sections: list[str], captions: dict[str, str]) -> str:
    """The whole index.html from the rendered sections (each starts with an <h3>)."""
    used: set[str] = set()
    contents: list[str] = []
    body: list[str] = []
    for sec in sections:
        def anchor(m: re.Match) -> str:
            text = re.sub(r"<[^>]+>", "", m.group(1))
            ident = slug(html.unescape(text), used)
            contents.append(f'<li><a href="#{ident}">{m.group(1)}</a></li>')
            return f'<h3 id="{ident}">{m.group(1)}</h3>'

        sec = re.sub(r"<h3>(.*?)</h3>", anchor, sec)
        sec = re.sub(r"<table>", '<div class="scroll"><table class="sortable">', sec)
        sec = sec.replace("</table>", "</table></div>")

        def figure(m: re.Match) -> str:
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            src = html.unescape(attrs.get("src", ""))
            cap = captions.get(src) or html.unescape(attrs.get("alt", "")) or src
            return (f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}" '
                    f'width="{attrs.get("width", "640")}"><figcaption>{html.escape(cap)}'
                    "</figcaption></figure>")

        sec = re.sub(r"<img ([^>]*)>", figure, sec)
        body.append(_code_spans(sec))
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width'><title>{html.escape(title)}"
            f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{_code_spans(intro_html)}</p><nav><strong>Contents</strong><ol>"
            + "".join(contents) + "</ol></nav>" + "\n".join(body)
            + f"<script>{SCRIPT_PATH.read_text()}</script></body></html>\n")
