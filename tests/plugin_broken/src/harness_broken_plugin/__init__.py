"""Raises on import, like a plugin with a missing dependency."""

raise ImportError("No module named 'some_missing_dependency'")
