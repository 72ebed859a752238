"""A search space given by a table of fixed-width integer encodings (one row per arch).

Neighbours are the archs of the table at Hamming distance 1 (one position changed to any
other value, 0 included where 0 means "absent", e.g. a missing macro module); ``mutate``
draws one neighbour uniformly. Used by TransNAS-Bench-101's micro and macro spaces.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.core.errors import InvalidArchError


class EncodedSpace:
    def __init__(self, encodings: np.ndarray):
        self.encodings = np.asarray(encodings, dtype=np.int8)
        self.size = len(self.encodings)
        self._values = [np.unique(self.encodings[:, j]) for j in range(self.encodings.shape[1])]
        self._index = {tuple(e): i for i, e in enumerate(self.encodings.tolist())}
        self._nbrs: dict[int, np.ndarray] = {}

    def index_of_ops(self, ops: Sequence[int]) -> int:
        try:
            return self._index[tuple(int(o) for o in ops)]
        except KeyError:
            raise InvalidArchError(f"encoding {list(ops)} is not in this space") from None

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(0, self.size, size=n)

    def neighbours(self, idx: int) -> np.ndarray:
        if idx not in self._nbrs:
            base = self.encodings[idx].tolist()
            out = []
            for j, vals in enumerate(self._values):
                for v in vals:
                    if v != base[j]:
                        cand = list(base)
                        cand[j] = int(v)
                        k = self._index.get(tuple(cand))
                        if k is not None:
                            out.append(k)
            self._nbrs[idx] = np.asarray(out, dtype=np.int64)
        return self._nbrs[idx]

    def mutate(self, idx: int, rng: np.random.Generator) -> int:
        nb = self.neighbours(idx)
        if len(nb) == 0:
            return int(rng.integers(self.size))
        return int(nb[rng.integers(len(nb))])


class CellSpace(EncodedSpace):
    """An :class:`EncodedSpace` of NB201-shaped cells (6 edge ops, op 0 = ``none``), e.g.
    the TransNAS-Bench-101 micro space: it also knows which cells are disconnected."""

    def connected(self, idx: int) -> bool:
        from adapters.nb201_space import output_connected

        return output_connected(self.encodings[idx])
