"""Zero-cost proxies: scoring archs (one network, shared passes), the score cache, the
sweep over arch samples in chunks, and proxy cells that correlate scores with the table.

May import: ``harness.core``, ``harness.api`` and, lazily, ``adapters``.
"""
