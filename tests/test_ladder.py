"""The fidelity ladder (harness/oneshot/ladder.py): real one-shot cells at tiny rungs."""

from __future__ import annotations

import json

import numpy as np

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
