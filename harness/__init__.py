"""nas-harness: a reproducibility harness for neural architecture search.

The package is split as the design card fixes it: ``harness`` (core: CLI, HDF5 layout,
registry, runner, results store, leaderboard), ``adapters`` (one module per benchmark) and
``methods`` (search strategies, proxies, differentiable methods).
"""

__version__ = "0.1.0"
