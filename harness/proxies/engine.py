"""The proxy engine: every proxy of a (benchmark, dataset, seed) scored on one arch at once,
sharing what the proxies have in common.

Per arch it builds and initialises the network once, then
* runs every proxy that reads the network without changing it (l2_norm, grasp) on it;
* runs each shared pass of :mod:`harness.proxies.passes` once for all the proxies that
  declare it: one cross-entropy forward+backward for grad_norm, snip and fisher (fisher's
  activation hooks ride along), one forward with an input gradient for jacov and nwot (nwot's
  ReLU hooks ride along);
* gives every proxy that changes the network (synflow, zen, ntk; plugins by default) its own
  copy of the freshly initialised network, taken before anything ran; the last of them
  takes that copy itself, and when no other proxy reads the network (a score table's
  build: synflow alone) the network is not copied at all (a deep copy of an NB201 network
  costs more than its synflow score).
Each proxy sees exactly what it would see alone (same initialisation, minibatch and
generator stream; BN in training mode uses batch statistics, so the running statistics that
earlier passes moved change no score), hence the scores equal
:meth:`harness.proxies.scoring.ArchScorer.score`'s; tests check it on every proxy. A proxy's
recorded seconds are its own work plus an equal share of the network build and of its shared pass.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Sequence

from harness.core.errors import MethodError
from harness.proxies.passes import run_pass
from harness.proxies.scoring import NUMERICAL, ArchScorer, build_network, safely, sync


def score_arch(scorers: Sequence[ArchScorer], arch: int) -> dict[str, tuple[float, float]]:
    """Score ``arch`` with every scorer (all of one benchmark, dataset, seed, minibatch and
    device) that has not cached it yet; {proxy name: (score, seconds)} of those computed."""
    a = int(arch)
    todo = [s for s in scorers if not s.cached(a) and s.failed is None]
    out: dict[str, tuple[float, float]] = {}
    for s in [s for s in todo if not s.cls.needs_model or (
            s.cls.undefined_on_disconnected and not s.connected(a))]:
        with contextlib.suppress(MethodError):  # s.failed says why
            out[s.key["proxy"]] = s.score(a)  # table lookups (params, flops); -inf (undefined)
    todo = [s for s in todo if s.key["proxy"] not in out and s.failed is None]
    if not todo:
        return out
    first = todo[0]
    t0 = time.perf_counter()
    model = build_network(first.bench, a, first.dataset, first.init_stream(a), first.device)
    mutating = [s for s in todo if s.cls.mutates_model and not s.cls.shared_pass]
    pristine = None
    if mutating:  # a fresh network for each; no copy where nothing else reads it
        pristine = model if len(mutating) == len(todo) else copy.deepcopy(model)
    share = (time.perf_counter() - t0) / len(todo)

    def timed(s: ArchScorer, fn, extra: float = 0.0) -> None:
        t = time.perf_counter()
        if s.failed:
            return
        try:
            with s.limit(a):
                v = safely(fn)
        except MethodError:
            return  # s.failed says why; the sweep gives up on this proxy
        sync(s.device)
        out[s.key["proxy"]] = s.record(a, v, time.perf_counter() - t + share + extra)

    passes: dict[str, list[ArchScorer]] = {}
    for s in todo:
        if s.cls.shared_pass:
            passes.setdefault(s.cls.shared_pass, []).append(s)
        elif not s.cls.mutates_model:
            timed(s, lambda s=s: s.proxy._score(s.context(a, model)))
    for name, members in passes.items():
        # proxies that differentiate through the pass's gradients collect last
        members.sort(key=lambda m: m.cls.pass_needs_graph)
        graph = any(m.cls.pass_needs_graph for m in members)
        ctxs = [s.context(a, model) for s in members]
        t = time.perf_counter()
        observed = []
        for m, c in zip(members, ctxs, strict=True):
            try:
                with m.limit(a):
                    observed.append(m.proxy._observe(c))
            except MethodError:  # m.failed says why; its collect is skipped
                observed.append(None)
        try:
            with members[0].limit(a):
                outcome, ok = run_pass(name, ctxs[0], create_graph=graph), True
        except MethodError:
            for m in members:  # the shared pass itself hung: every member gives up
                m.failed = members[0].failed
            continue
        except NUMERICAL as exc:  # every member records the failure as NaN
            if "out of memory" in str(exc).lower():
                raise
            outcome, ok = None, False
        sync(first.device)
        pass_share = (time.perf_counter() - t) / len(members)
        for m, c, o in zip(members, ctxs, observed, strict=True):
            timed(m, (lambda m=m, c=c, o=o, r=outcome: m.proxy._collect(c, o, r)) if ok
                  else (lambda: float("nan")), pass_share)
        if graph:
            model.zero_grad(set_to_none=True)  # the grads reference the graph
    for i, s in enumerate(mutating):
        net = pristine if i == len(mutating) - 1 else copy.deepcopy(pristine)
        timed(s, lambda s=s, net=net: s.proxy._score(s.context(a, net)))
    return out
