"""Reports: the leaderboard pages (Markdown, HTML), figures, the survey's tables and the
claims audit, all computed from the results store and the reference numbers.

May import: ``harness.core`` and, lazily, ``adapters``. It reads rows, never runs cells.
"""
