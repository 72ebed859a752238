"""The NB201 authors' own search models (registry package ``xautodl``, the code of
D-X-Y/AutoDL-Projects and NATS-Bench) beside ours, for the equivalence tests.

``xautodl`` declares ``numpy<=1.19.5`` and more, so it is installed with ``--no-deps`` (tox's
``tests`` environment does); where CI or ``NAS_HARNESS_REQUIRE_DATA`` asks for every real
check, a missing package fails instead of skipping.
"""

from __future__ import annotations

import os
import re

import pytest
import torch

#: our edge order is the reference's ``edge2index`` (sorted ``i<-j`` strings)
EDGE_NAMES = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")


def xautodl():
    """The imported ``xautodl.models`` package, or a skip (a failure where checks must run)."""
    required = bool(os.environ.get("CI") or os.environ.get("NAS_HARNESS_REQUIRE_DATA"))
    try:
        import xautodl.models.cell_searchs  # noqa: F401
        from xautodl import models
    except ImportError as exc:
        if required:
            raise AssertionError("xautodl is missing: pip install --no-deps xautodl") from exc
        pytest.skip("xautodl not installed (pip install --no-deps xautodl)")
    return models


def our_name(ref_name: str) -> str:
    """Our state-dict name of a reference one: ``edges.<i<-j>`` is edge index
    ``EDGE_NAMES.index``, and the reference wraps ReLU-Conv-BN in an ``op`` Sequential."""
    name = re.sub(r"edges\.(\d<-\d)\.", lambda m: f"edges.{EDGE_NAMES.index(m[1])}.", ref_name)
    return name.replace(".op.", ".")


def reference_model(kind: str, C: int, N: int, num_classes: int = 10,
                    track_running_stats: bool = False):
    """The reference search model ``kind`` (DARTS, GDAS, RANDOM, SETN, ENAS) at size C, N
    with the NB201 space, 4 nodes and the BN options the reference searches use."""
    xautodl()
    from xautodl.models.cell_operations import NAS_BENCH_201
    from xautodl.models.cell_searchs import nas201_super_nets

    name = {"DARTS": "DARTS-V1"}.get(kind, kind)
    return nas201_super_nets[name](C, N, 4, num_classes, NAS_BENCH_201, False,
                                   track_running_stats)


def copy_into_reference(ours: torch.nn.Module, ref: torch.nn.Module) -> None:
    """Copy every weight and buffer of ``ours`` into ``ref`` by name (its
    ``arch_parameters`` are left alone); fails if a name or shape has no partner."""
    mine = ours.state_dict()
    theirs = ref.state_dict()
    missing = [k for k in theirs if k != "arch_parameters" and our_name(k) not in mine]
    assert not missing, missing[:5]
    with torch.no_grad():
        for k, v in theirs.items():
            if k == "arch_parameters":
                continue
            src = mine[our_name(k)]
            assert src.shape == v.shape, (k, src.shape, v.shape)
            v.copy_(src)
    assert len(mine) == len(theirs) - ("arch_parameters" in theirs)


def structure(ops) -> object:
    """The reference ``CellStructure`` of our op tuple."""
    from xautodl.models.cell_searchs.genotypes import Structure

    from adapters.nb201_space import arch_string

    return Structure.str2structure(arch_string(ops))


def reference_optimizers():
    """``xautodl/procedures/optimizers.py`` (the schedulers), loaded as a file: the package
    ``xautodl.procedures`` imports torchvision, which this project does not install."""
    import importlib.util
    from pathlib import Path

    package = Path(xautodl().__file__).parent.parent  # xautodl/models -> xautodl
    path = package / "procedures" / "optimizers.py"
    spec = importlib.util.spec_from_file_location("xautodl_reference_optimizers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
