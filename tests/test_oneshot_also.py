"""``oneshot.also`` (issue 25): some one-shot methods at another configuration beside the
profile's own, e.g. DARTS-V1 at the cpu-collapse size beside every method at the reduced
one. Planned first, labelled by their configuration, validated key by key."""

from __future__ import annotations

import json

import pytest

from harness.core.errors import ConfigError
from harness.core.registry import default_registry
from harness.oneshot.cells import plan_oneshot_cells
from harness.run.profile import load_profile

COLLAPSE = load_profile("cpu-collapse")["oneshot"]["configuration"]


def _methods():
    reg = default_registry()
    return {n: reg.get(n) for n in ("darts-v1", "gdas", "spos")}


def _id(cell) -> tuple:
    return cell.method, cell.benchmark, cell.dataset, cell.seed, cell.budget_key


def _profile(tmp_path, also) -> str:
    prof = load_profile("smoke")
    prof["oneshot"]["also"] = also
    path = tmp_path / "p.json"
    path.write_text(json.dumps(prof))
    return str(path)


def test_also_plans_its_methods_at_its_configuration_first(tmp_path):
    plain = plan_oneshot_cells(load_profile("smoke"), _methods(), require_images=False)
    prof = load_profile(_profile(tmp_path, [{"methods": ["darts-v1"], "seeds": 3,
                                            "configuration": COLLAPSE}]))
    cells = plan_oneshot_cells(prof, _methods(), require_images=False)
    extra, rest = cells[:3], cells[3:]
    # the profile's own cells are untouched, the extra ones come first
    assert [_id(c) for c in rest] == [_id(c) for c in plain]
    assert [(c.method, c.seed, c.cfg.label, c.epochs) for c in extra] == [
        ("darts-v1", s, "cpu-collapse", 100) for s in range(3)]
    assert (extra[0].cfg.C, extra[0].cfg.N, extra[0].cfg.train_images) == (4, 5, 1280)
    # another configuration is another budget: its rows never mix with the smoke ones
    smoke_darts = next(c for c in rest if c.method == "darts-v1")
    assert extra[0].budget_key != smoke_darts.budget_key
    assert len({_id(c) for c in cells}) == len(cells)
    # no ranking for the extra cells; the parent's benchmarks when the entry names none
    assert all(c.ranking == 0 and (c.benchmark, c.dataset) == ("nb201", "cifar10")
               for c in extra)


@pytest.mark.parametrize("also, needle", [
    ({"methods": ["darts-v1"]}, "'oneshot.also' must be a list"),
    ([{"methods": [], "configuration": COLLAPSE}], "'oneshot.also[0].methods' must be a "
                                                   "non-empty list"),
    ([{"methods": ["darts-v1"], "configuration": COLLAPSE, "epochs": 3}],
     "unknown key(s) ['epochs'] in 'oneshot.also[0]'"),
    ([{"methods": ["darts-v1"], "seeds": 0, "configuration": COLLAPSE}],
     "'oneshot.also[0].seeds' must be a whole number"),
    ([{"methods": ["darts-v1"]}], "'oneshot.also[0].configuration' must be an object"),
    ([{"methods": ["darts-v1"], "configuration": {**COLLAPSE, "chanels": 8}}],
     "oneshot.also[0]: unknown key(s) ['chanels'] in 'oneshot.configuration'"),
    ([{"methods": ["darts-v1"], "configuration": {**COLLAPSE, "label": "fast"}}],
     "'oneshot.configuration.label' must be one of"),
])
def test_bad_also_entries_are_one_line(tmp_path, also, needle):
    with pytest.raises(ConfigError) as exc:
        load_profile(_profile(tmp_path, also))
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_the_default_profile_runs_darts_v1_at_the_cpu_collapse_profiles_size():
    """Issue 25's decision: the default profile's DARTS-V1 baseline is the cpu-collapse
    profile's configuration (the ladder rung where DARTS-V1 collapsed), 3 seeds on CIFAR-10,
    planned before the reduced cells; the two profiles cannot drift apart."""
    (also,) = load_profile("default")["oneshot"]["also"]
    assert also == {"methods": ["darts-v1"], "seeds": 3, "benchmarks": {"nb201": ["cifar10"]},
                    "configuration": COLLAPSE}
    cells = plan_oneshot_cells(load_profile("default"), _methods(), require_images=False)
    assert [(c.method, c.cfg.label, c.dataset) for c in cells[:3]] == [
        ("darts-v1", "cpu-collapse", "cifar10")] * 3
    assert {c.cfg.label for c in cells[3:]} == {"reduced"}
