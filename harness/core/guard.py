"""While a method's own code runs, the benchmark table answers only the search metric.

The harness wraps every search (and every one-shot hook) in :func:`search_metric_only`;
reading any other metric of any dataset meanwhile -- through the benchmark, its column
cache or its HDF5 reader -- raises :class:`~harness.core.errors.MethodError` and is recorded,
so a method that catches the error still has its cell failed when it returns. Costs (params,
FLOPs, training seconds) stay readable: they are not results. Python cannot sandbox code in
its own process (introspection reaches anything); this guard and the audit of every row
(:func:`harness.core.view.audit`) catch what attribute access and ordinary calls can do.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from harness.core.errors import MethodError

_STATE = threading.local()


@contextlib.contextmanager
def search_metric_only(dataset: str | None, metric: str | None, who: str
                       ) -> Iterator[None]:
    """Within the block only ``dataset``/``metric`` (and its cheaper fidelities
    ``metric_hpN``) may be read -- nothing at all when ``dataset`` is None (one-shot hooks).
    A read the block's code caught and swallowed still fails it: the block ends with
    :class:`~harness.core.errors.MethodError` naming the first violation."""
    prev = getattr(_STATE, "allowed", None)
    violations: list[str] = []
    _STATE.allowed = (dataset, metric, who, violations)
    try:
        yield
    finally:
        _STATE.allowed = prev
    if violations:
        raise MethodError(violations[0])


def check_read(dataset: str, metric: str) -> None:
    """Called by the benchmark before it reads a metric column."""
    allowed = getattr(_STATE, "allowed", None)
    if allowed is None:
        return
    ds, m, who, violations = allowed
    if ds is not None and dataset == ds and (metric == m or metric.startswith(m + "_hp")):
        return
    sees = (f"a method sees only {ds}/{m} through its oracle" if ds is not None else
            "a one-shot method reads no table metric")
    msg = (f"{who} read {dataset}/{metric} while searching; {sees} (the harness looks results "
           "up itself)")
    violations.append(msg)
    raise MethodError(msg)
