"""Search cells: one black-box search strategy, on one benchmark/dataset, one seed and one
budget, run against the harness's oracle; planning them from a profile.

May import: ``harness.core``, ``harness.api`` and, lazily, ``adapters``.
"""
