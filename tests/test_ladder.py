"""The fidelity ladder (harness/oneshot/ladder.py): real one-shot cells at tiny rungs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from adapters.nb201_space import parse_arch
from harness.oneshot import ladder


def test_a_rung_records_the_derived_cells_trajectory(nb201, data_root, harness_home):
    r = ladder.run_rung("darts-v1", C=4, N=1, images=64, epochs=2, seed=0, batch_size=32)
    assert r["rung"] == "C=4,N=1,images=64,epochs=2" and r["steps"] == 4
    assert len(r["per_epoch"]) == 2
    # the final cell's skip count is read off its NB201 string, its accuracy off the table
    assert r["skip_edges"] == r["cell"].count("skip_connect")
    proto = nb201.protocol("cifar10")
    idx = nb201.space.index_of_ops(parse_arch(r["cell"]))
    want = float(nb201.query(np.array([idx]), proto["report_metric"],
                             proto["report_dataset"])[0])
    assert abs(want - r["test_value"]) < 1e-3
    for e in r["per_epoch"]:  # a softmax weight: about uniform after 4 tiny Adam steps
        assert 0.15 < e["skip_weight"] < 0.25
    assert r["per_epoch"][-1]["skip_edges"] == r["skip_edges"]


def test_the_ladder_resumes_with_the_next_unfinished_cell(tmp_path, monkeypatch, nb201,
                                                         data_root, harness_home):
    calls = []

    def fake(method, C, N, images, epochs, seed, **kw):
        calls.append((C, seed))
        return {"method": method, "rung": ladder.rung_label(C, N, images, epochs),
                "seed": seed, "skip_edges": 6, "test_value": 54.3, "seconds": 1.0}

    monkeypatch.setattr(ladder, "run_rung", fake)
    out = tmp_path / "l.jsonl"
    out.write_text(json.dumps({"method": "darts-v1", "rung": "C=4,N=1,images=64,epochs=2",
                               "seed": 0}) + "\n")
    assert ladder.main(["--out", str(out), "--seeds", "2", "--rung", "4,1,64,2"]) == 0
    assert calls == [(4, 1)]  # seed 0 was done
    assert len(out.read_text().splitlines()) == 2


def test_a_killed_ladder_cell_resumes_from_its_epoch_checkpoint(tmp_path, monkeypatch, nb201,
                                                               data_root, harness_home):
    """A cell stopped after epoch 1 continues from its checkpoint to the very row an
    uninterrupted cell gives (the runner's own guarantee, through the ladder's file)."""
    from harness.core.cell import Paused
    from harness.oneshot import runner

    whole = ladder.run_rung("darts-v1", C=4, N=1, images=64, epochs=2, seed=1, batch_size=32)
    ck = tmp_path / "ck.pt"
    real = runner.run_oneshot_cell

    def stop_after_one(*args, **kw):
        return real(*args, **{**kw, "stop_after": 1})

    with monkeypatch.context() as m:
        m.setattr(runner, "run_oneshot_cell", stop_after_one)
        with pytest.raises(Paused):
            ladder.run_rung("darts-v1", C=4, N=1, images=64, epochs=2, seed=1,
                            batch_size=32, checkpoint=ck)
    assert ck.exists()
    again = ladder.run_rung("darts-v1", C=4, N=1, images=64, epochs=2, seed=1, batch_size=32,
                            checkpoint=ck)
    assert not ck.exists()
    strip = ("seconds",)
    assert [{k: v for k, v in e.items() if k not in strip} for e in again["per_epoch"]] == \
        [{k: v for k, v in e.items() if k not in strip} for e in whole["per_epoch"]]
    assert (again["cell"], again["test_value"]) == (whole["cell"], whole["test_value"])


def test_a_bad_rung_is_one_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        ladder.main(["--out", str(tmp_path / "l.jsonl"), "--rung", "8,5"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "give four positive integers C,N,train_images,epochs" in err
    assert "Traceback" not in err
