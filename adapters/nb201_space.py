"""NAS-Bench-201 cell space: arch strings, integer encodings, isomorphism classes, costs.

A cell is a 4-node DAG; each of the 6 edges j<-i (i<j) carries one of 5 ops. The official
string lists edges by target node: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``. We encode an
arch as 6 op indices in that edge order (OPS order below), and as one base-5 integer code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import numpy as np

from harness.core.errors import InvalidArchError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
OP_INDEX = {op: i for i, op in enumerate(OPS)}
#: edges in official string order as (target, source)
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NUM_EDGES = len(EDGES)
NUM_OPS = len(OPS)
_NODE_RE = re.compile(r"^\|(.+)\|$")


def parse_arch(s: str) -> tuple[int, ...]:
    """Parse an official NB201 arch string into 6 op indices; InvalidArchError if malformed."""
    if not isinstance(s, str):
        raise InvalidArchError(f"arch must be a string like '|nor_conv_3x3~0|+|...|', got {s!r}")
    nodes = s.strip().split("+")
    if len(nodes) != 3:
        raise InvalidArchError(
            f"invalid NB201 arch string {s!r}: expected 3 '+'-separated nodes, got {len(nodes)}; "
            "example: |nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|"
            "nor_conv_1x1~2|")
    ops: list[int] = []
    for j, node in enumerate(nodes, start=1):
        m = _NODE_RE.match(node)
        parts = m.group(1).split("|") if m else []
        if len(parts) != j:
            raise InvalidArchError(f"invalid NB201 arch string {s!r}: node {j} must list {j} "
                                   f"inputs as |op~i|, got {node!r}")
        for i, part in enumerate(parts):
            op, _, src = part.partition("~")
            if op not in OP_INDEX:
                from harness.core.errors import did_you_mean
                raise InvalidArchError(f"invalid NB201 arch string {s!r}: unknown op {op!r}"
                                       f"{did_you_mean(op, OPS)}; ops are {', '.join(OPS)}")
            if src != str(i):
                raise InvalidArchError(f"invalid NB201 arch string {s!r}: node {j} input {i} "
                                       f"is written '~{src}', expected '~{i}'")
            ops.append(OP_INDEX[op])
    return tuple(ops)


def arch_string(ops: Sequence[int]) -> str:
    """Inverse of :func:`parse_arch`."""
    if len(ops) != NUM_EDGES or any(not 0 <= o < NUM_OPS for o in ops):
        raise InvalidArchError(f"an NB201 encoding has 6 op indices in 0..4, got {list(ops)}")
    names = [OPS[o] for o in ops]
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*names)


def output_connected(ops: Sequence[int]) -> bool:
    """True when the cell's output node is reachable from its input through edges that are
    not ``none`` (op 0), i.e. when the network's output depends on its input at all."""
    reach = {0}
    for (target, source), op in zip(EDGES, ops, strict=True):
        if int(op) != 0 and source in reach:
            reach.add(target)
    return 3 in reach


def encode_code(ops: np.ndarray) -> np.ndarray:
    """Base-5 integer code of (..., 6) op-index arrays (edge 0 most significant)."""
    ops = np.asarray(ops, dtype=np.int64)
    weights = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)
    return ops @ weights


@cache
def _canon(ops: tuple[int, ...]) -> str:
    # Each node's value is a sum (multiset) of terms; a term is an op applied to the sum of
    # an input node. skip_connect forwards the input's terms; 'none' contributes nothing; a
    # conv/pool of an all-zero input is zero (the network treats it so) and is dropped. Two
    # cells compute the same function class iff their output expressions are equal, which
    # folds isomorphic relabellings of nodes 1/2 and edges that cannot reach the output.
    node_terms: list[tuple[str, ...]] = [("x",)]
    k = 0
    for j in range(1, 4):
        terms: list[str] = []
        for i in range(j):
            op = OPS[ops[k]]
            k += 1
            src = node_terms[i]
            if op == "none" or not src:
                continue
            if op == "skip_connect":
                terms.extend(src)
            else:
                terms.append(f"{op}({'+'.join(src)})")
        node_terms.append(tuple(sorted(terms)))
    return "+".join(node_terms[3]) or "zero"


def canonical_key(ops: Sequence[int]) -> str:
    """Isomorphism-invariant key of a cell (equal keys <=> same computation)."""
    return _canon(tuple(int(o) for o in ops))


@cache
def _unique_str(ops: tuple[int, ...]) -> str:
    nodes = ["0"]
    k = 0
    for j in range(1, 4):
        cur = []
        for i in range(j):
            op = OPS[ops[k]]
            k += 1
            if op == "none" or nodes[i] == "#":
                cur.append("#")
            elif op == "skip_connect":
                cur.append(nodes[i])
            else:
                cur.append(f"({nodes[i]})@{op}")
        nodes.append("+".join(sorted(cur)))
    return nodes[3]


def nb201_unique_str(ops: Sequence[int]) -> str:
    """The NB201 authors' isomorphism key (``to_unique_str(consider_zero=True)`` rule).

    It yields the published 6,466 classes. It prunes dead edges and folds skip connections,
    but is coarser than a full functional normal form: it keeps zero terms ('#') and sorts
    only within a node, so e.g. swapping the two intermediate nodes can change it.
    :func:`canonical_key` is the stronger, relabelling-invariant key (4,930 classes); every
    NB201 class lies inside one of its classes.
    """
    return _unique_str(tuple(int(o) for o in ops))


def iso_classes(encodings: np.ndarray, key=nb201_unique_str) -> np.ndarray:
    """For each arch, the index of the first arch (official order) with the same key."""
    first: dict[str, int] = {}
    out = np.empty(len(encodings), dtype=np.int32)
    for idx, ops in enumerate(encodings):
        out[idx] = first.setdefault(key(ops), idx)
    return out


# ---- costs --------------------------------------------------------------------------------
#: (num_classes, input resolution) per NB201 dataset
DATASET_SHAPES = {
    "cifar10": (10, 32), "cifar10-valid": (10, 32), "cifar100": (100, 32),
    "ImageNet16-120": (120, 16),
}
STEM_C, N_CELLS = 16, 5


def analytic_costs(encodings: np.ndarray, num_classes: int, resolution: int,
                   C: int = STEM_C, N: int = N_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """Parameters (count) and FLOPs (multiply-accumulates, in M) of the NB201 network.

    Same convention as the official tables: convolutions count k*k*Cin*Cout*Hout*Wout,
    the classifier in*out + out; pooling, BN and additions count zero. Verified against the
    torch model (``adapters.nb201_model``) and the official ``params``/``flop`` fields.
    """
    enc = np.asarray(encodings)
    n1 = (enc == OP_INDEX["nor_conv_1x1"]).sum(axis=1)
    n3 = (enc == OP_INDEX["nor_conv_3x3"]).sum(axis=1)
    params = 0.0
    flops = 0.0
    # stem: conv3x3(3->C) + BN(C)
    params += 27 * C + 2 * C
    flops += 27 * C * resolution ** 2
    cell_params = np.zeros(len(enc))
    cell_flops = np.zeros(len(enc))
    h = resolution
    c = C
    for stage in range(3):
        if stage > 0:  # ResNet basic block, stride 2: conv_a, conv_b (ReLU-Conv-BN), downsample
            h //= 2
            params += 9 * c * 2 * c + 2 * 2 * c + 9 * (2 * c) ** 2 + 2 * 2 * c + c * 2 * c
            flops += (9 * c * 2 * c + 9 * (2 * c) ** 2 + c * 2 * c) * h * h
            c *= 2
        cell_params += N * (n1 * (c * c + 2 * c) + n3 * (9 * c * c + 2 * c))
        cell_flops += N * (n1 * c * c + n3 * 9 * c * c) * h * h
    params += 2 * c + c * num_classes + num_classes  # lastact BN + classifier
    flops += c * num_classes + num_classes
    return (params + cell_params).astype(np.int64), (flops + cell_flops) / 1e6


class NB201Space:
    """Search-space operations over the official index order of the 15,625 cells."""

    def __init__(self, encodings: np.ndarray):
        self.encodings = np.asarray(encodings, dtype=np.int8)
        codes = encode_code(self.encodings)
        n = NUM_OPS ** NUM_EDGES
        self._index_of_code = np.full(n, -1, dtype=np.int64)
        self._index_of_code[codes] = np.arange(len(codes))
        self.codes = codes
        self.size = len(codes)

    def index_of_ops(self, ops: Sequence[int]) -> int:
        idx = int(self._index_of_code[int(encode_code(np.asarray(ops)))])
        if idx < 0:
            raise InvalidArchError(f"{arch_string(ops)} is not in this benchmark")
        return idx

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n arch indices uniformly at random (with replacement)."""
        return rng.integers(0, self.size, size=n)

    def connected(self, idx: int) -> bool:
        """Whether the cell's output depends on its input (see :func:`output_connected`)."""
        return output_connected(self.encodings[idx])

    def neighbours(self, idx: int) -> np.ndarray:
        """All 24 archs that differ from ``idx`` in exactly one edge's op."""
        ops = self.encodings[idx].astype(np.int64)
        out = []
        for e in range(NUM_EDGES):
            for o in range(NUM_OPS):
                if o != ops[e]:
                    new = ops.copy()
                    new[e] = o
                    out.append(self._index_of_code[int(encode_code(new))])
        return np.asarray(out, dtype=np.int64)

    def mutate(self, idx: int, rng: np.random.Generator) -> int:
        """Change one uniformly chosen edge to a different uniformly chosen op."""
        ops = self.encodings[idx].astype(np.int64)
        e = int(rng.integers(NUM_EDGES))
        choices = [o for o in range(NUM_OPS) if o != ops[e]]
        ops[e] = choices[int(rng.integers(len(choices)))]
        return int(self._index_of_code[int(encode_code(ops))])
