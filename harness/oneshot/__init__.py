"""One-shot (differentiable and weight-sharing) cells: the supernet search loop around a
method's hooks, checkpoints per epoch, derived-cell lookups and supernet ranking.

May import: ``harness.core``, ``harness.api``, ``harness.proxies`` (network
initialisation) and, lazily, ``adapters``.
"""
