"""Running a plan: profiles, the engine that skips stored cells and stores finished ones
(the driver alone writes the store), and the executors that run cells -- in this process,
in a local process pool, or as Ray tasks on a cluster.

May import: ``harness.core``, ``harness.search``, ``harness.proxies``, ``harness.oneshot``,
``harness.api`` and, lazily, ``adapters``.
"""
