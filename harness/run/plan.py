"""A profile's plan: every cell it asks for (search, proxy, one-shot), and the identity that
ties a stored row to the cell that produced it.

``run`` executes the plan; ``leaderboard``/``verify`` use it to build a leaderboard from the
rows of one profile only (a store may hold rows of other profiles, filters or older runs),
and to mark groups with fewer stored seeds than planned (failed or not yet run).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

_PARTIAL = re.compile(r"archs=\d+/(\d+)")


def plan(profile: dict[str, Any], methods: dict[str, type], *, benchmarks=None,
         datasets=None, seeds: int | None = None, device: str = "cpu", warn=None) -> list:
    """Every cell of ``profile`` for ``methods`` (search, then proxies, then one-shot), with
    the run's benchmark/dataset/seed filters. Benchmarks are opened (converted on first use)
    to learn whether their tables carry training times."""
    from harness.core.cellbase import _get_bench
    from harness.oneshot.cells import plan_oneshot_cells
    from harness.proxies.cells import plan_proxy_cells
    from harness.search.cells import plan_cells

    def has_times(bname: str, ds: str) -> bool:
        b = _get_bench(bname)
        return b.train_time([0], b.protocol(ds)["search_dataset"]) is not None

    cells: list = plan_cells(profile, methods, benchmarks=benchmarks, datasets=datasets,
                             seeds=seeds, has_times=has_times)
    cells += plan_proxy_cells(profile, methods, benchmarks=benchmarks, datasets=datasets,
                              device=device, warn=warn)
    cells += plan_oneshot_cells(profile, methods, benchmarks=benchmarks, datasets=datasets,
                                seeds=seeds, device=device, warn=warn)
    return cells


def profile_cells(name: str, methods: dict[str, type], warn=None) -> tuple[dict, list]:
    """(the profile, its cells) as ``run --all`` plans them here: benchmarks that are neither
    converted nor in the data root are left out (named through ``warn``, when given)."""
    from harness.run.engine import drop_unavailable
    from harness.run.profile import load_profile

    quiet = warn or (lambda _msg: None)
    profile = load_profile(name)
    drop_unavailable(profile, quiet)
    return profile, plan(profile, methods, warn=quiet)


def _budget(budget: str) -> str:
    # a time-boxed proxy sweep stores 'archs=12/250': it belongs to the 'archs=250' cell
    return _PARTIAL.sub(r"archs=\1", budget)


def cell_id(cell) -> tuple[str, str, str, int, str]:
    """(method, benchmark, dataset, seed, budget) of a planned cell."""
    budget = cell.budget.key() if hasattr(cell, "budget") else cell.budget_key
    return (cell.method, cell.benchmark, cell.dataset, cell.seed, _budget(budget))


def row_id(row: dict) -> tuple[str, str, str, int, str]:
    """(method, benchmark, dataset, seed, budget) of a stored row."""
    return (row["method"], row["benchmark"], row["dataset"], row["seed"],
            _budget(row["budget"]))


class Plan:
    """The cells of one run's plan, as the leaderboard needs them: which stored rows belong
    to it, and how many seeds each (method, benchmark, dataset, budget) group should have."""

    def __init__(self, cells: list):
        self.ids = {cell_id(c) for c in cells}
        self.planned = Counter((m, b, d, bud) for m, b, d, _s, bud in self.ids)

    def select(self, rows: list[dict]) -> tuple[list[dict], int]:
        """(rows that belong to a planned cell, how many other rows were left out)."""
        keep = [r for r in rows if row_id(r) in self.ids]
        return keep, len(rows) - len(keep)

    def missing(self, rows: list[dict]) -> list[str]:
        """Planned cells without a stored row (failed, or not yet run), as labels."""
        have = {row_id(r) for r in rows}
        return [f"{m} on {b}/{d} seed {s} ({bud})"
                for m, b, d, s, bud in sorted(self.ids - have, key=str)]

    def seeds(self, group: dict) -> int:
        """Seeds planned for an aggregated group (a dict with method, benchmark, dataset
        and budget), 0 when the plan has none."""
        return self.planned.get((group["method"], group["benchmark"], group["dataset"],
                                 _budget(group["budget"])), 0)
