"""Converters for the official NB201 / NATS-Bench releases, on tiny files of their layout."""

from __future__ import annotations

import bz2
import pickle

import numpy as np
import pytest

from adapters import open_file
from adapters.nb201_official import convert_official
from harness.core.errors import DataError
from harness.data.h5layout import verify_file
from tests import official_fixtures as fx
from tests.helpers import assert_one_line_error, run_cli

WRITERS = {"nats-dir": lambda p: fx.write_nats_dir(p / "NATS-tss-v1_0-3ffb9-simple"),
           "nats-pbz2": lambda p: fx.write_nats_pbz2(p / "NATS-tss-v1_0-3ffb9.pickle.pbz2"),
           "nb201-pth": lambda p: fx.write_nb201_pth(p / "NAS-Bench-201-v1_1-096897.pth")}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_official_release_round_trips_exactly(tmp_path, kind):
    src = WRITERS[kind](tmp_path)
    out = tmp_path / "nb201.h5"
    convert_official(src, out)
    verify_file(out)
    b = open_file("nb201", out)
    assert list(b.archs) == fx.ARCHS
    # every seed and epoch is kept: check a few cells exactly (float32)
    for idx in range(len(fx.ARCHS)):
        for ds, metric, ev in [("cifar10-valid", "valid_acc", "x-valid"),
                               ("cifar100", "test_acc", "x-test"),
                               ("ImageNet16-120", "valid_acc", "x-valid"),
                               ("cifar10", "test_acc", "ori-test")]:
            for seed in (777, 888):
                for epoch in (1, 100, 200):
                    want = np.float32(fx.value(idx, ds, seed, ev, epoch - 1, "200"))
                    got = b.query([idx], metric, ds, epoch=epoch, seed=seed)[0]
                    assert got == want, (kind, idx, ds, metric, seed, epoch)
        want12 = np.float32(fx.value(idx, "cifar10-valid", 111, "x-valid", 11, "12"))
        assert b.query([idx], "valid_acc_hp12", "cifar10-valid", seed=111)[0] == want12
    # train seconds: 200 epochs x (10 + idx) s; params/flops equal the network's
    assert b.cost([1], "train_seconds", "cifar10-valid")[0] == pytest.approx(200 * 11)
    assert b.train_time([1], "cifar10-valid")[0] == pytest.approx(200 * 11)
    assert np.array_equal(np.round(b.cost(np.arange(4), "params_table", "cifar100")),
                          b.cost(np.arange(4), "params", "cifar100"))
    assert b.cost([3], "latency", "cifar10")[0] == pytest.approx(0.013)
    b.close()


@pytest.mark.parametrize("kind", ["nats-dir", "nats-pbz2", "nb201-pth"])
def test_missing_seed_is_masked_not_imputed(tmp_path, kind):
    src = WRITERS[kind](tmp_path)
    out = tmp_path / "nb201.h5"
    convert_official(src, out)
    b = open_file("nb201", out)
    with pytest.raises(Exception, match="unknown seed"):
        b.query([2], "test_acc", "cifar100", seed=5)
    assert np.isnan(b.query([2], "test_acc", "cifar100", seed=999)[0])
    mask = b.h5.array("cifar100", "test_acc_mask")
    assert mask.shape == (4, 3) and not mask[2, 2] and mask[2, :2].all() and mask[0].all()
    # seed mean uses only the seeds present
    mean = b.query([2], "test_acc", "cifar100")[0]
    want = np.mean([np.float32(fx.value(2, "cifar100", s, "x-test", 199, "200"))
                    for s in (777, 888)])
    assert mean == pytest.approx(want, abs=1e-4)
    b.close()


def test_tampered_pickle_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps({"meta_archs": [], "arch2infos": Evil()})))
    with pytest.raises(DataError, match="refusing to unpickle builtins.print"):
        convert_official(path, tmp_path / "x.h5")


def test_truncated_release_gives_one_line(tmp_path, env_home):
    path = fx.write_nats_pbz2(tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2")
    path.write_bytes(path.read_bytes()[:500])
    proc = run_cli("data", "convert", "nb201", "--from", str(path), "--out",
                   str(tmp_path / "o.h5"), env={"NAS_HARNESS_HOME": str(env_home)})
    assert_one_line_error(proc, "error:", "truncated")


def test_convert_cli_from_official_dir(tmp_path, env_home):
    src = fx.write_nats_dir(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    proc = run_cli("data", "convert", "nb201", "--from", str(src),
                   env={"NAS_HARNESS_HOME": str(env_home)}, check=True)
    assert "converted nb201" in proc.stdout
    proc = run_cli("data", "verify", "nb201", env={"NAS_HARNESS_HOME": str(env_home)},
                   check=True)
    assert proc.stdout.startswith("ok:")
