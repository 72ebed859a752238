"""``python -m harness query`` and ``adapters.query.query``: one architecture's table entry,
checked against independent facts (the NB201 optimum, the built network's parameter count,
chance level of an operation-free cell)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.core.errors import ConfigError, InvalidArchError
from tests.helpers import assert_one_line_error, run_cli

pytestmark = pytest.mark.realdata

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|" \
       "nor_conv_1x1~2|"


def test_the_cifar10_optimum_by_string_index_and_encoding(nb201):
    from adapters.query import query

    by_str = query(nb201, BEST, dataset="cifar10")
    assert by_str["index"] == 6111
    m = by_str["datasets"]["cifar10"]["metrics"]["test_acc"]
    assert m["value"] == pytest.approx(94.37, abs=0.01) and m["epochs"] == 200
    assert m["units"] == "percent"
    # the table's params are the built network's trainable parameters
    net = nb201.build_model([6111], "cifar10")
    n_params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert by_str["datasets"]["cifar10"]["costs"]["params"] == n_params
    assert query(nb201, 6111, dataset="cifar10") == by_str
    assert query(nb201, "6111", dataset="cifar10") == by_str
    assert query(nb201, ",".join(map(str, by_str["encoding"])), dataset="cifar10") == by_str


def test_schedules_and_one_metric(nb201):
    from adapters.query import query

    out = query(nb201, BEST, epochs=12)
    for ds, d in out["datasets"].items():
        assert d["metrics"] and all(k.endswith("_hp12") for k in d["metrics"]), ds
        assert all(r["epochs"] == 12 for r in d["metrics"].values())
    c10 = query(nb201, BEST, dataset="cifar10")["datasets"]["cifar10"]["metrics"]
    assert c10["test_acc_hp12"]["value"] < c10["test_acc"]["value"]  # 12 epochs < 200
    one = query(nb201, BEST, metric="valid_acc")
    assert set(one["datasets"]) == {"cifar10-valid", "cifar100", "ImageNet16-120"}
    assert all(list(d["metrics"]) == ["valid_acc"] for d in one["datasets"].values())
    with pytest.raises(ConfigError, match=r"--epochs 7: nb201/cifar10 has schedules \[12, 200\]"):
        query(nb201, BEST, dataset="cifar10", epochs=7)


def test_tnb101_cell_without_operations_is_at_chance(harness_home, data_root, monkeypatch):
    monkeypatch.setenv("NAS_HARNESS_HOME", str(harness_home))
    monkeypatch.setenv("NAS_HARNESS_DATA", str(data_root))
    from adapters.query import query

    out = query("tnb101-micro", "64-41414-0_00_000", dataset="jigsaw")
    m = out["datasets"]["jigsaw"]["metrics"]
    # jigsaw is a 1000-way permutation classification: chance is 0.1 % top-1
    assert m["test_top1"]["value"] < 1.0 and m["test_top1"]["epochs"] is None
    assert out["datasets"]["jigsaw"]["costs"]["train_seconds"] > 0


@pytest.mark.parametrize("arch, needle", [
    ("|bogus~0|", "give an official arch string such as"),
    ("99999", "out of range 0..15624"),
    ("-1", "out of range 0..15624"),
    ("1,2", "an encoding of 6 comma-separated integers"),
    ("9,9,9,9,9,9", "encoding '9,9,9,9,9,9' is not an architecture of nb201"),
])
def test_invalid_archs(nb201, arch, needle):
    from adapters.query import query

    with pytest.raises(InvalidArchError, match=needle.replace("(", r"\(").replace(".", r"\.")):
        query(nb201, arch)


def test_index_of_is_a_dict_lookup(nb201):
    archs = nb201.archs.tolist()
    for i in (0, 6111, 15624):
        assert nb201.index_of(archs[i]) == i and nb201.index_of(i) == i
    assert nb201.index(archs[6111]).tolist() == [6111]
    for bad in (True, 2.0, np.float64(3)):
        with pytest.raises(InvalidArchError):
            nb201.index_of(bad)


def test_cli(harness_home, data_root):
    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root)}
    proc = run_cli("query", "nb201", BEST, "--dataset", "cifar10", "--json", env=env,
                   check=True)
    out = json.loads(proc.stdout)
    assert out["datasets"]["cifar10"]["metrics"]["test_acc"]["value"] == pytest.approx(94.37,
                                                                                     abs=0.01)
    assert out["datasets"]["cifar10"]["costs"]["params"] == 1073466
    text = run_cli("query", "nb201", "6111", "--dataset", "cifar10", "--metric", "test_acc",
                   env=env, check=True).stdout
    assert "nb201 arch 6111:" in text and "94.3733 %  (200 epochs)" in text
    assert_one_line_error(run_cli("query", "nb201", "|x|", env=env), "error:", "give an")
    assert_one_line_error(run_cli("query", "nb201", "0", "--metric", "tst_acc", env=env),
                          "did you mean 'test_acc'")
