"""The fidelity ladder (harness/run/ladder.py, harness/report/ladder.py): real one-shot cells
at tiny rungs, the records and the leaderboard section."""

from __future__ import annotations

import json

import numpy as np
import pytest

from adapters.nb201_space import parse_arch
from harness.run import ladder


def test_a_rung_records_the_derived_cells_trajectory(nb201, data_root, harness_home):
    r = ladder.run_rung("darts-v1", C=4, N=1, images=64, epochs=2, seed=0, batch_size=32,
                        rank=6)
    assert r["rung"] == "C=4,N=1,images=64,epochs=2,batch=32" and r["steps"] == 4
    # the supernet ranked 6 stratified archs; tau of 6 archs lies in [-1, 1] with a CI
    rk = r["ranking"]["supernet_vs_test"]
    assert rk["n"] == 6 and -1 <= rk["kendall"] <= 1 and len(rk["kendall_ci"]) == 2
    assert "log_weight_vs_test" in r["ranking"]  # DARTS: the relaxation's own estimate too
    assert len(r["ranking"]["supernet_acc"]) == len(r["ranking"]["table_test"]) == 6
    assert r["method_version"] == "2" and r["git_commit"] is not None
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


def test_the_ladder_prints_every_epoch_and_the_cell(tmp_path, capsys, nb201, data_root,
                                                    harness_home):
    """An hour-long cell shows its pace: one stderr line per finished epoch, then the
    cell's outcome on stdout (the same numbers as the record appended to the file)."""
    out = tmp_path / "l.jsonl"
    assert ladder.main(["--out", str(out), "--seed", "0", "--rung", "4,1,64,2",
                        "--batch", "32"]) == 0
    cap = capsys.readouterr()
    lines = [x for x in cap.err.splitlines() if "epoch" in x]
    assert [x.split(": ")[1].split(" (")[0] for x in lines] == ["epoch 1/2", "epoch 2/2"]
    rec = json.loads(out.read_text().splitlines()[0])
    assert f"{rec['skip_edges']} skip edges, {rec['test_value']:.2f} %" in cap.out


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


def _rec(rung, seed, skip, acc=54.3, steps=40, method="darts-v1"):
    C, N = (int(p.split("=")[1]) for p in rung.split(",")[:2])
    return {"method": method, "dataset": "cifar10", "rung": rung, "seed": seed, "C": C,
            "N": N, "steps": steps, "epochs": 2, "skip_edges": skip, "test_value": acc,
            "seconds": 2.0 * steps, "per_epoch": [
                {"epoch": e, "skip_weight": 0.2 + 0.01 * e * skip, "skip_edges": skip,
                 "test_value": acc, "seconds": 1.0} for e in (1, 2)]}


def test_here_measured_records_replace_shipped_ones_and_collapse_is_counted(tmp_path):
    """A rung reproduces the collapse when >= 2 of its seeds derive >= 5 skip edges; a
    record measured here replaces the shipped record of the same rung and seed."""
    from harness.report import ladder as report

    shipped, home = tmp_path / "shipped.jsonl", tmp_path / "home.jsonl"
    big, small = "C=8,N=5,images=640,epochs=2", "C=4,N=5,images=640,epochs=2"
    shipped.write_text("".join(json.dumps(r) + "\n" for r in (
        _rec(big, 0, 6), _rec(big, 1, 2, 80.0), _rec(small, 0, 0, 91.0))))
    home.write_text(json.dumps(_rec(big, 1, 5)) + "\n" + json.dumps(
        _rec(small, 0, 1, 90.0, method="gdas")) + "\n")
    recs, n = report.records("darts-v1", shipped, home)
    assert n == {"shipped": 3, "here": 1} and len(recs) == 3
    table = report.rung_table(recs)
    assert [t["rung"] for t in table] == [small, big]  # cheapest (C x N x steps) first
    assert table[1]["skip edges per seed"] == "6 5"  # seed 1's shipped 2 was replaced
    assert table[1]["collapse (≥5 of 6 skip edges)"] == "2/2 — reproduced"
    assert table[0]["collapse (≥5 of 6 skip edges)"] == "0/1"
    assert table[1]["s/step"] == "2.00"


def test_the_ladder_section_follows_the_profile(tmp_path, monkeypatch):
    from harness.core.errors import ConfigError
    from harness.report import ladder as report
    from harness.run.profile import ladder_methods, load_profile

    assert ladder_methods(load_profile("default")) == ["darts-v1", "gdas", "spos", "fairnas"]
    prof = load_profile("smoke")
    assert ladder_methods(prof) == []  # the smoke leaderboard stays as it is
    prof["oneshot"]["ladder"] = "darts-v1"
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps(prof))
    with pytest.raises(ConfigError, match="'oneshot.ladder' must be a list of method names"):
        load_profile(str(bad))
    monkeypatch.setenv("NAS_HARNESS_HOME", str(tmp_path / "home"))
    (tmp_path / "out" / "figures").mkdir(parents=True)
    assert report.section([], tmp_path / "out")["markdown"] == ""
    sec = report.section(["darts-v1"], tmp_path / "out")
    assert sec["figures"] == ["figures/oneshot_ladder_darts-v1.png"]
    assert (tmp_path / "out" / sec["figures"][0]).stat().st_size > 10_000
    assert "REDUCED CPU configurations, not the paper's" in sec["markdown"]


def test_the_cli_refuses_a_method_that_is_not_one_shot(tmp_path, capsys):
    from harness.cli.app import main

    assert main(["ladder", "--method", "random", "--out", str(tmp_path / "l.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "random is not a one-shot method" in err
    assert main(["ladder", "--rank", "2", "--out", str(tmp_path / "l.jsonl")]) == 2
    assert "at least 3" in capsys.readouterr().err


def test_the_parameter_free_bias_of_a_ranking(nb201):
    """On NB201 the table punishes parameter-free edges (none, skip, pooling): over 300
    random archs the count's Kendall tau with CIFAR-10 test accuracy is clearly negative,
    while an estimate that simply counts them has tau exactly 1 with the count."""
    from harness.oneshot.ranking import param_free_bias

    rng = np.random.default_rng(0)
    archs = rng.choice(nb201.num_archs, 300, replace=False)
    ops = nb201.encode(archs).astype(np.int64)
    test = nb201.query(archs, "test_acc", "cifar10")
    from adapters.nb201_space import OPS

    free = [OPS.index(o) for o in ("none", "skip_connect", "avg_pool_3x3")]
    count = np.isin(ops, free).sum(axis=1).astype(float)
    bias = param_free_bias(ops, count, test)
    assert bias["estimate"] == 1.0
    assert bias["table"] < -0.3


def test_the_cpu_collapse_profile_is_the_rung_that_collapsed():
    """The built-in profile 'cpu-collapse' runs the ladder rung whose shipped DARTS-V1
    records derive >= 5 of 6 skip edges in >= 2 of 3 seeds (the NB201 paper's all-skip
    cell is 54.30 % on CIFAR-10), labelled cpu-collapse, at the reference's batch 64."""
    from harness.core.ladder_records import read_records
    from harness.report.ladder import SHIPPED
    from harness.run.profile import load_profile

    cfg = load_profile("cpu-collapse")["oneshot"]["configuration"]
    assert cfg["label"] == "cpu-collapse" and cfg["batch_size"] == 64
    assert cfg["train_images"] == cfg["valid_images"]
    rung = ladder.rung_label(cfg["C"], cfg["N"], cfg["train_images"], cfg["epochs"])
    recs = [r for r in read_records(SHIPPED / "darts-v1.jsonl") if r["rung"] == rung]
    assert sorted(r["seed"] for r in recs) == [0, 1, 2]
    collapsed = [r for r in recs if r["skip_edges"] >= 5]
    assert len(collapsed) >= 2
    assert all(abs(r["test_value"] - 54.30) < 0.01 for r in recs if r["skip_edges"] == 6)


def test_single_path_ladders_show_the_supernet_ranking(tmp_path, monkeypatch):
    """SPOS and FairNAS have no architecture weights: their ladder rows show the trained
    supernet's Kendall tau (shipped: SPOS at its own 250 epochs, FairNAS at 60) and no skip
    weight, and no figure is drawn for them."""
    from harness.report import ladder as report

    monkeypatch.setenv("NAS_HARNESS_HOME", str(tmp_path))  # shipped records only
    for method in ("spos", "fairnas"):
        recs, n = report.records(method)
        assert n["shipped"] >= 1 and n["here"] == 0
        (row,) = [r for r in report.rung_table(recs) if r["rung"].startswith("C=8,N=1")]
        assert row["mean skip weight at the end"] == "—"
        taus = [float(t) for t in row["supernet Kendall τ"].split()]
        # a trained supernet ranks the 100 stratified archs better than chance
        assert all(0.3 < t <= 1 for t in taus)
        rec = recs[0]
        lo, hi = rec["ranking"]["supernet_vs_test"]["kendall_ci"]
        assert lo < rec["ranking"]["supernet_vs_test"]["kendall"] < hi
        assert report.figure(recs, method, tmp_path) is None
    sec = report.section(["spos"], tmp_path)
    assert "supernet Kendall τ" in sec["markdown"] and not sec["figures"]
    assert "54.30" not in sec["markdown"]  # the DARTS-V1 sentence is DARTS-V1's only


def test_the_shipped_gdas_ladder_is_what_the_table_says(nb201):
    """GDAS at the rung where DARTS-V1 collapsed: three seeds, none with >= 5 skip edges
    (the NB201 paper: GDAS does not collapse), and each record's accuracy and skip count are
    its derived cell's in the benchmark table."""
    from harness.core.ladder_records import read_records
    from harness.report.ladder import SHIPPED
    from harness.run.profile import load_profile

    cfg = load_profile("cpu-collapse")["oneshot"]["configuration"]
    rung = ladder.rung_label(cfg["C"], cfg["N"], cfg["train_images"], cfg["epochs"])
    recs = [r for r in read_records(SHIPPED / "gdas.jsonl") if r["rung"] == rung]
    assert sorted(r["seed"] for r in recs) == [0, 1, 2]
    assert all(r["skip_edges"] < 5 for r in recs)
    for r in recs:
        ops = parse_arch(r["cell"])
        idx = int(nb201.space.index_of_ops(ops))
        assert abs(float(nb201.query(np.array([idx]), "test_acc", "cifar10")[0])
                   - r["test_value"]) < 0.01
        assert r["skip_edges"] == r["cell"].count("skip_connect")
