"""Sub-commands beyond ``data`` (run, list, export, leaderboard, verify)."""

from __future__ import annotations


def add_parsers(sub, parser_class) -> None:  # filled in by the core (issue 2)
    return None
