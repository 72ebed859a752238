"""NAS-Bench-101 cell space (Ying et al., ICML 2019): validity, pruning, the official
Weisfeiler-Lehman-style graph hash, encodings and search-space operations.

A cell is a DAG on at most 7 vertices (upper-triangular adjacency, at most 9 edges); the
first vertex is the input, the last the output, interior vertices carry one of three ops.
Two cells are the same architecture iff their pruned graphs have the same hash; the hash
below follows the published algorithm (``nasbench/lib/graph_util.hash_module``), so our ids
equal the official ``module_hash``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from harness.core.errors import InvalidArchError

INPUT, OUTPUT = "input", "output"
OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
MAX_VERTICES, MAX_EDGES = 7, 9
#: encoding: 21 upper-triangular adjacency bits of a 7x7 matrix, then 5 interior op ids
#: (0 = absent vertex, 1..3 = OPS), vertices padded before the output
ENC_WIDTH = 21 + 5


def prune(matrix: np.ndarray, ops: Sequence[str]) -> tuple[np.ndarray, list[str]] | None:
    """Remove vertices not on an input->output path; None if the output is unreachable."""
    m = np.array(matrix, dtype=np.int64)
    n = len(m)
    def reach(start: int, adj: np.ndarray) -> set[int]:
        seen, stack = {start}, [start]
        while stack:
            v = stack.pop()
            for w in np.flatnonzero(adj[v]):
                if int(w) not in seen:
                    seen.add(int(w))
                    stack.append(int(w))
        return seen

    fwd = reach(0, m)
    bwd = reach(n - 1, m.T)
    keep = sorted(fwd & bwd)
    if 0 not in keep or n - 1 not in keep:
        return None
    return m[np.ix_(keep, keep)], [ops[i] for i in keep]


def check_cell(matrix: np.ndarray, ops: Sequence[str]) -> None:
    """Raise InvalidArchError unless (matrix, ops) is a valid NB101 cell."""
    m = np.asarray(matrix)
    n = len(ops)
    if m.shape != (n, n) or not 2 <= n <= MAX_VERTICES:
        raise InvalidArchError(f"NB101 cell needs an n x n adjacency with 2..7 vertices and n "
                               f"ops, got {m.shape} and {n} ops")
    if np.any(np.tril(m)) or not np.isin(m, (0, 1)).all():
        raise InvalidArchError("NB101 adjacency must be 0/1 and strictly upper-triangular")
    if m.sum() > MAX_EDGES:
        raise InvalidArchError(f"NB101 cell has {int(m.sum())} edges, at most 9 allowed")
    if ops[0] != INPUT or ops[-1] != OUTPUT or any(o not in OPS for o in ops[1:-1]):
        raise InvalidArchError(f"NB101 ops must be input, {{{', '.join(OPS)}}}..., output")
    if prune(m, ops) is None:
        raise InvalidArchError("NB101 cell has no path from input to output")


def module_hash(matrix: np.ndarray, ops: Sequence[str]) -> str:
    """The official NB101 hash of a (pruned) cell: iterated md5 of vertex degree/label
    signatures and sorted neighbour hashes, isomorphism-invariant."""
    pr = prune(matrix, ops)
    if pr is None:
        raise InvalidArchError("NB101 cell has no path from input to output")
    m, ops = pr
    labels = [-1] + [OPS.index(o) for o in ops[1:-1]] + [-2]
    n = len(m)
    in_edges = m.sum(axis=0).tolist()
    out_edges = m.sum(axis=1).tolist()
    hashes = [hashlib.md5(str(h).encode("utf-8")).hexdigest()
              for h in zip(out_edges, in_edges, labels, strict=True)]
    for _ in range(n):
        hashes = [hashlib.md5(("".join(sorted(hashes[w] for w in range(n) if m[w, v])) + "|"
                               + "".join(sorted(hashes[w] for w in range(n) if m[v, w])) + "|"
                               + hashes[v]).encode("utf-8")).hexdigest() for v in range(n)]
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()


def encode(matrix: np.ndarray, ops: Sequence[str]) -> np.ndarray:
    """Fixed-width encoding of a pruned cell (see ENC_WIDTH)."""
    m, ops = prune(matrix, ops) or (None, None)
    if m is None:
        raise InvalidArchError("NB101 cell has no path from input to output")
    n = len(m)
    full = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    pos = list(range(n - 1)) + [MAX_VERTICES - 1]  # pad interior vertices before the output
    for i in range(n):
        for j in range(n):
            full[pos[i], pos[j]] = m[i, j]
    inner = [OPS.index(o) + 1 for o in ops[1:-1]] + [0] * (MAX_VERTICES - n)
    return np.concatenate([full[np.triu_indices(MAX_VERTICES, 1)], inner]).astype(np.int8)


def decode(enc: Sequence[int]) -> tuple[np.ndarray, list[str]]:
    enc = np.asarray(enc)
    full = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int64)
    full[np.triu_indices(MAX_VERTICES, 1)] = enc[:21]
    inner = [int(x) for x in enc[21:]]
    keep = [0] + [i + 1 for i, o in enumerate(inner) if o] + [MAX_VERTICES - 1]
    ops = [INPUT] + [OPS[o - 1] for o in inner if o] + [OUTPUT]
    return full[np.ix_(keep, keep)], ops


def permute(matrix: np.ndarray, ops: Sequence[str], perm: Sequence[int]
            ) -> tuple[np.ndarray, list[str]]:
    """Relabel interior vertices by ``perm`` (a permutation of 1..n-2); the result is a
    valid upper-triangular cell only if the permutation respects the DAG order."""
    n = len(ops)
    full = [0] + list(perm) + [n - 1]
    inv = np.argsort(full)
    m = np.asarray(matrix)[np.ix_(inv, inv)]
    return m, [ops[i] for i in inv]


class NB101Space:
    """Search-space operations over the archs present in a converted table.

    With the table's ids (official ``module_hash`` values) a cell is found by its hash, so
    any labelling of an isomorphic cell finds the table's row; without them, by encoding.
    """

    def __init__(self, encodings: np.ndarray, ids: Sequence[str] | None = None):
        self.encodings = np.asarray(encodings, dtype=np.int8)
        self.size = len(self.encodings)
        self._index = {bytes(e.tobytes()): i for i, e in enumerate(self.encodings)}
        self._by_hash = ({str(h): i for i, h in enumerate(ids)} if ids is not None and
                         all(len(str(h)) == 32 for h in ids[:10]) else None)
        # the policy space of per-position samplers (REINFORCE): the upper-triangular bits
        # and interior ops of a cell on as many vertices as the table's largest cell
        present = (self.encodings[:, 21:] > 0).sum(axis=1) if self.size else np.zeros(1)
        self.vertices = int(present.max()) + 2
        n_edges = self.vertices * (self.vertices - 1) // 2
        self.choice_sizes = (2,) * n_edges + (len(OPS),) * (self.vertices - 2)

    def _lookup(self, matrix, ops) -> int | None:
        try:
            check_cell(matrix, ops)
            if self._by_hash is not None:
                return self._by_hash.get(module_hash(matrix, ops))
            return self._index.get(encode(matrix, ops).tobytes())
        except InvalidArchError:
            return None

    def index_of_choices(self, choices: Sequence[int]) -> int | None:
        """The table's arch for one draw of every position of :attr:`choice_sizes` (edge
        bits, then op ids 0..2), or None if the cell is invalid or not in the table."""
        v = self.vertices
        m = np.zeros((v, v), dtype=np.int64)
        m[np.triu_indices(v, 1)] = np.asarray(choices[: v * (v - 1) // 2])
        ops = [INPUT] + [OPS[int(c)] for c in choices[v * (v - 1) // 2:]] + [OUTPUT]
        return self._lookup(m, ops)

    def index_of_ops(self, enc) -> int:
        idx = self._index.get(np.asarray(enc, dtype=np.int8).tobytes())
        if idx is None:
            raise InvalidArchError("cell not in this NB101 table")
        return idx

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(0, self.size, size=n)

    def neighbours(self, idx: int) -> np.ndarray:
        """Cells of the table one op change or one edge flip away (White et al. 2021)."""
        m, ops = decode(self.encodings[idx])
        out = set()
        for v in range(1, len(ops) - 1):
            for o in OPS:
                if o != ops[v]:
                    k = self._lookup(m, ops[:v] + [o] + ops[v + 1:])
                    if k is not None:
                        out.add(k)
        for i in range(len(ops)):
            for j in range(i + 1, len(ops)):
                m2 = m.copy()
                m2[i, j] ^= 1
                k = self._lookup(m2, ops)
                if k is not None:
                    out.add(k)
        out.discard(idx)
        return np.array(sorted(out), dtype=np.int64)

    def mutate(self, idx: int, rng: np.random.Generator) -> int:
        nb = self.neighbours(idx)
        return int(nb[rng.integers(len(nb))]) if len(nb) else int(rng.integers(self.size))
