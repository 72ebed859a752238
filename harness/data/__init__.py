"""The on-disk data layer: the versioned, checksummed HDF5 layout every benchmark is
converted into, and the restricted unpickler the converters read official pickles with.

May import: ``harness.core`` only. ``adapters`` (one module per benchmark) build on it.
"""
