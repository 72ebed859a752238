"""Foundations every kind of cell shares: errors, seed streams, the data root and cache
home, the per-cell time limit, budgets and the oracle, the results store, the method
registry, rank correlations, the cell protocol, and the per-process benchmark cache.

May import: the standard library, numpy/scipy/torch, ``harness.api`` (the plugin interface,
which itself imports only ``harness.core``) and, lazily, ``adapters``. Nothing else in
``harness``: every other subpackage builds on this one.
"""
