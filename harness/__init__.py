"""nas-harness: a reproducibility harness for neural architecture search.

The project is split as the design card fixes it: ``harness`` (the harness), ``adapters``
(one module per benchmark) and ``methods`` (search strategies, proxies, one-shot methods).
``harness`` holds subpackages by concern -- ``core`` (foundations), ``data`` (HDF5 layout),
``search``, ``proxies`` and ``oneshot`` (the three kinds of cell), ``run`` (engine and
executors), ``report`` (leaderboard) and ``cli`` -- plus the two modules plugins use,
``harness.api`` and ``harness.testing``.
"""

__version__ = "0.1.0"
