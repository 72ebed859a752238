"""NB201 cell space: strings, encodings, neighbours, isomorphism keys (incl. hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.nb201_space import (
    NUM_OPS,
    OP_INDEX,
    NB201Space,
    arch_string,
    canonical_key,
    nb201_unique_str,
    parse_arch,
)
from harness.core.errors import InvalidArchError

ALL = np.array(np.meshgrid(*[range(5)] * 6, indexing="ij")).reshape(6, -1).T
NONE, SKIP = OP_INDEX["none"], OP_INDEX["skip_connect"]
ops_st = st.lists(st.integers(0, NUM_OPS - 1), min_size=6, max_size=6)


def test_round_trip_every_cell():
    for ops in ALL[::7]:
        assert parse_arch(arch_string(ops)) == tuple(ops)


@pytest.mark.parametrize("bad", [
    "|nor_conv_3x3~0|+|none~0|none~1|",                      # 2 nodes
    "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",        # unknown op
    "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",        # wrong input index
    "|none~0|+|none~0|+|none~0|none~1|none~2|",               # node 2 lacks an input
    42,
])
def test_invalid_strings_raise(bad):
    with pytest.raises(InvalidArchError):
        parse_arch(bad)


def test_unknown_op_suggests():
    with pytest.raises(InvalidArchError, match="did you mean 'nor_conv_3x3'"):
        parse_arch("|nor_conv_3x4~0|+|none~0|none~1|+|none~0|none~1|none~2|")


def test_neighbours_and_mutate():
    space = NB201Space(ALL[np.random.default_rng(0).permutation(len(ALL))])
    rng = np.random.default_rng(1)
    for idx in rng.integers(0, space.size, 20):
        nb = space.neighbours(int(idx))
        assert len(nb) == 24 and len(set(nb.tolist())) == 24
        diff = (space.encodings[nb] != space.encodings[idx]).sum(axis=1)
        assert (diff == 1).all()
        m = space.mutate(int(idx), rng)
        assert (space.encodings[m] != space.encodings[idx]).sum() == 1
    s = space.sample(rng, 1000)
    assert s.min() >= 0 and s.max() < space.size


def _swap_nodes(ops):
    """Relabel intermediate nodes 1<->2 (valid when edge 2<-1 is 'none')."""
    e10, e20, e21, e30, e31, e32 = ops
    return [e20, e10, e21, e30, e32, e31]


@settings(max_examples=300, deadline=None)
@given(ops_st)
def test_canonical_key_invariant_under_node_relabelling(ops):
    ops[2] = NONE  # 2<-1 absent, so nodes 1 and 2 are interchangeable
    assert canonical_key(ops) == canonical_key(_swap_nodes(ops))


@settings(max_examples=300, deadline=None)
@given(ops_st, st.integers(0, NUM_OPS - 1))
def test_keys_ignore_edges_that_cannot_reach_the_output(ops, new_op):
    # node 1 is dead when it has no path to the output: 3<-1 none and (2<-1 or 3<-2) none
    ops[4] = NONE
    ops[2] = NONE
    changed = list(ops)
    changed[0] = new_op  # the edge into the dead node 1
    assert canonical_key(ops) == canonical_key(changed)
    assert nb201_unique_str(ops) == nb201_unique_str(changed)


@settings(max_examples=300, deadline=None)
@given(ops_st)
def test_skip_chain_equals_direct_skip(ops):
    # x -> skip -> node1 -> skip -> node3 computes the same as x -> skip -> node3 when
    # node 1 has no other role: only the key that folds sums sees it.
    a = [SKIP, NONE, NONE, NONE, SKIP, NONE]
    b = [NONE, NONE, NONE, SKIP, NONE, NONE]
    assert canonical_key(a) == canonical_key(b)


def test_official_key_refines_canonical_key_on_all_cells():
    """Each official class (6,466) lies inside exactly one canonical class (4,930)."""
    off: dict[str, str] = {}
    for ops in ALL:
        k = canonical_key(ops)
        assert off.setdefault(nb201_unique_str(ops), k) == k
    assert len(off) == 6466
    assert len({canonical_key(o) for o in ALL}) == 4930
