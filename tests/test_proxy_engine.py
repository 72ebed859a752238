"""The proxy engine (shared network and passes) scores exactly like one proxy at a time."""

from __future__ import annotations

import numpy as np
import torch

from harness.api import Proxy
from harness.core.registry import default_registry
from harness.core.seeds import cell_seed_sequence
from harness.proxies.engine import score_arch
from harness.proxies.scoring import ArchScorer, stratified_archs

PROXIES = ("params", "flops", "l2_norm", "grad_norm", "snip", "fisher", "grasp", "jacov",
           "nwot", "synflow", "zen", "ntk")


class Scaler(Proxy):
    """A plugin-style proxy that knows nothing of the engine and changes the network."""

    def _score(self, ctx) -> float:
        with torch.no_grad():
            for p in ctx.model.parameters():
                p.mul_(3.0)
            return float(ctx.model(ctx.inputs).abs().mean())


def _scorers(bench, names, classes=None):
    reg = default_registry()
    return [ArchScorer((classes or {}).get(n) or reg.get(n), n, bench, "cifar10",
                       experiment_seed=11, seed=0, batch_size=8, device="cpu")
            for n in names]


def test_engine_scores_equal_single_proxy_scores_on_10_archs(nb201):
    seq = cell_seed_sequence(5, "eq", "nb201", "cifar10", 0)
    archs = stratified_archs(nb201, "cifar10", 9, seq)
    archs = np.append(archs, nb201.index(["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]))
    names = (*PROXIES, "scaler")
    alone = _scorers(nb201, names, {"scaler": Scaler})
    engine = _scorers(nb201, names, {"scaler": Scaler})
    for a in archs:
        got = score_arch(engine, int(a))
        assert set(got) == set(names)  # every proxy scored the arch
        for s_alone, s_eng in zip(alone, engine, strict=True):
            want = s_alone.score(int(a))[0]
            have = s_eng.score(int(a))[0]  # served from the engine's record
            name = s_alone.key["proxy"]
            if np.isinf(want):
                assert have == want, name
            else:
                assert np.isclose(have, want, rtol=1e-6, atol=1e-9, equal_nan=True), \
                    (name, int(a), have, want)
    # the disconnected cell: -inf for the proxies undefined on it, finite for the others
    last = {s.key["proxy"]: s.score(int(archs[-1]))[0] for s in engine}
    assert {n for n, v in last.items() if np.isneginf(v)} == {
        "jacov", "nwot", "synflow", "zen", "ntk"}


def test_engine_skips_what_is_cached(nb201):
    scorers = _scorers(nb201, ("snip", "grad_norm"))
    seq = cell_seed_sequence(5, "one", "nb201", "cifar10", 0)
    a = int(stratified_archs(nb201, "cifar10", 1, seq)[0])
    assert set(score_arch(scorers, a)) == {"snip", "grad_norm"}
    assert score_arch(scorers, a) == {}


def test_engine_copies_the_network_only_for_a_proxy_that_would_see_a_changed_one(
        nb201, monkeypatch):
    """Each network-changing proxy still gets a freshly initialised network (scores equal
    to one proxy at a time), but the last of them takes the engine's pristine copy and,
    where nothing else reads the network (a synflow score table), no copy is made: version 1
    deep-copied twice per arch, more than half of a synflow table's build."""
    import copy

    from harness.proxies import engine

    copies, deepcopy = [], copy.deepcopy
    monkeypatch.setattr(engine.copy, "deepcopy", lambda m, memo=None: (
        copies.append(1) if memo is None else None) or deepcopy(m, memo))
    seq = cell_seed_sequence(5, "copies", "nb201", "cifar10", 0)
    archs = [int(a) for a in stratified_archs(nb201, "cifar10", 2, seq)]
    for names, want in [(("synflow",), 0), (("synflow", "zen", "scaler"), 2),
                        (("grad_norm", "synflow", "zen"), 2), (("grad_norm", "synflow"), 1)]:
        alone = _scorers(nb201, names, {"scaler": Scaler})
        for a in archs:
            copies.clear()
            engine_scorers = _scorers(nb201, names, {"scaler": Scaler})
            got = score_arch(engine_scorers, a)
            assert len(copies) == want, names
            for s in alone:
                name = s.key["proxy"]
                assert got[name][0] == s.score(a)[0], (names, a)  # bit for bit
