"""Explicit random streams: one ``numpy.random.SeedSequence`` per cell, never global state.

A cell is (experiment seed, method, benchmark, dataset, seed index). Its sequence is derived
from a stable hash of those values, so the same cell gives the same stream in any process,
on any machine, whatever else runs before it. Sub-tasks spawn children of the cell's
sequence; torch generators are seeded from the same stream (:func:`torch_generator`).
"""

from __future__ import annotations

import hashlib

import numpy as np


def _words(text: str) -> list[int]:
    digest = hashlib.sha256(text.encode()).digest()
    return [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]


def cell_seed_sequence(experiment_seed: int, method: str, benchmark: str, dataset: str,
                       seed_index: int) -> np.random.SeedSequence:
    """The SeedSequence of one cell (stable across processes and Python versions)."""
    key = _words(f"{method}\x1f{benchmark}\x1f{dataset}") + [int(seed_index)]
    return np.random.SeedSequence(entropy=int(experiment_seed), spawn_key=tuple(key))


def generator(seq: np.random.SeedSequence) -> np.random.Generator:
    """A PCG64 generator on ``seq`` (PCG64's stream is stable across numpy versions)."""
    return np.random.Generator(np.random.PCG64(seq))


def torch_generator(seq: np.random.SeedSequence, device: str = "cpu"):
    """A torch.Generator seeded from ``seq`` (no global torch seeding)."""
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(int(seq.generate_state(1, dtype=np.uint64)[0] >> 1))
    return g


def child_stream(seq: np.random.SeedSequence, name: str, index: int = 0
                 ) -> np.random.SeedSequence:
    """A named, indexed child of ``seq`` (e.g. the data stream of epoch 7 of a cell):
    stable across processes, independent of which other children were drawn."""
    return np.random.SeedSequence(entropy=seq.entropy,
                                  spawn_key=(*seq.spawn_key, *_words(name)[:2], int(index)))
