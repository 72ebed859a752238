"""Built-in methods: ``search/`` (strategies), ``proxies/`` (zero-cost), ``differentiable/``.

Each is declared in the entry-point group ``harness.methods`` (see pyproject.toml) and is
imported only when used.
"""
