"""TransNAS-Bench-101 micro and macro from the shared tables; searches on simulated-seconds
budgets; the benchmark list."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from adapters.tnb101 import TASKS, arch_string, parse_arch
from harness.core.budget import Budget
from harness.core.errors import InvalidArchError
from harness.core.registry import default_registry
from harness.search.cells import Cell, run_search_cell
from harness.testing import check_method
from tests.helpers import run_cli

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def tnb(nb201, harness_home, data_root):
    import adapters

    out = {s: adapters.load_benchmark(f"tnb101-{s}") for s in ("micro", "macro")}
    yield out
    for b in out.values():
        b.close()


def test_data_list_shows_every_benchmark(harness_home, data_root, tnb):
    rows = json.loads(run_cli("data", "list", "--json", env={
        "NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root)},
        check=True).stdout)
    status = {r["name"]: r["status"] for r in rows}
    assert set(status) >= {"nb201", "nb101", "tnb101-micro", "tnb101-macro"}
    assert "convert from the official file: nasbench_only108.tfrecord" in status["nb101"]
    assert status["nb201"].startswith("converted")
    assert status["tnb101-micro"].startswith("converted")


def test_spaces_tasks_and_published_facts(tnb):
    micro, macro = tnb["micro"], tnb["macro"]
    assert micro.num_archs == 4096 and macro.num_archs == 3256  # reference row 31
    for b in (micro, macro):
        assert tuple(b.tasks) == TASKS and set(b.datasets) == set(TASKS)
    # PROVENANCE cross-check: micro 64-41414-2_32_323 class_scene valid top-1 = 53.836586
    v = micro.query(["64-41414-2_32_323"], "valid_top1", "class_scene")[0]
    assert v == pytest.approx(53.836586, abs=1e-5)
    assert micro.best("valid_top1", "class_scene") == pytest.approx(54.936, abs=1e-3)
    assert micro.best("valid_top1", "class_object") == pytest.approx(46.318, abs=1e-3)
    assert micro.best("valid_top1", "jigsaw") == pytest.approx(95.372, abs=1e-3)
    assert micro.protocol("room_layout")["search_metric"] == "valid_neg_loss"
    assert micro.protocol("segmentsemantic")["report_metric"] == "test_mIoU"


def test_round_trip_and_training_times(tnb, data_root):
    with open(data_root / "tnb101" / "transbench101_autoencoder.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    micro = tnb["micro"]
    raw = np.array([float(r["valid_ssim"]) for r in rows[3256:]], dtype=np.float32)
    assert np.array_equal(micro.query(np.arange(4096), "valid_ssim", "autoencoder"), raw)
    secs = micro.train_time(np.arange(4096), "autoencoder")
    assert np.allclose(secs, [float(r["time_elapsed"]) for r in rows[3256:]])


def test_arch_strings_and_neighbours(tnb):
    assert parse_arch("64-41414-3_12_010") == ("micro", (3, 1, 2, 0, 1, 0))
    assert parse_arch("64-1324-basic") == ("macro", (1, 3, 2, 4, 0, 0))
    with pytest.raises(InvalidArchError):
        parse_arch("64-41414-4_00_000")
    micro, macro = tnb["micro"], tnb["macro"]
    nb = micro.neighbours(100)
    assert len(nb) == 18 and ((micro.encode(nb) != micro.encode([100])).sum(1) == 1).all()
    for i in (0, 1000, 3255):
        n = macro.neighbours(i)
        assert len(n) > 0 and ((macro.encode(n) != macro.encode([i])).sum(1) == 1).all()


def test_search_uses_simulated_seconds(tnb):
    micro = tnb["micro"]
    cls = default_registry().get("rea")
    budget = Budget(sim_seconds=200_000)
    row = run_search_cell(cls, Cell("rea", "tnb101-micro", "class_scene", 0, budget, 1), micro)
    sims = row["result"]["trajectory"]["sim_seconds"]
    assert row["budget"] == "sim_seconds=200000"
    assert sims[-2] < 200_000 <= sims[-1] or sims[-1] <= 200_000  # stops once spent
    assert row["sim_seconds_used"] == pytest.approx(sims[-1])
    assert row["report_on"] == "class_scene/test_top1"


@pytest.mark.parametrize("name", ["random", "rea", "reinforce", "local-search"])
def test_search_strategies_conform_on_macro(name, tnb):
    assert len(check_method(default_registry().get(name), tnb["macro"], "jigsaw")) == 7


def _write_tnb_pth(path):
    """A tiny file in the official layout: metrics per epoch, model_info, total_epochs."""
    import torch

    tasks = {"class_scene": ["train_top1", "valid_top1", "test_top1", "time_elapsed"],
             "jigsaw": ["train_top1", "valid_top1", "test_top1", "time_elapsed"],
             "room_layout": ["train_neg_loss", "valid_neg_loss", "test_neg_loss",
                             "time_elapsed"]}
    archs = {"macro": ["64-4111-basic", "64-1324-basic"],
             "micro": ["64-41414-0_00_000", "64-41414-3_12_010", "64-41414-3_33_333"]}
    data = {}
    for sp, names in archs.items():
        data[sp] = {}
        for k, a in enumerate(names):
            data[sp][a] = {}
            for t, ms in tasks.items():
                E = 5 if t == "jigsaw" else 4
                curves = {m: [float(10 * k + e + (0.5 if "valid" in m else 0)) for e in
                              range(E)] for m in ms}
                curves["valid_top1" if "valid_top1" in ms else ms[1]][1] = 99.0 + k  # best
                curves["time_elapsed"] = [100.0 * (e + 1) * (k + 1) for e in range(E)]
                data[sp][a][t] = {"metrics": curves, "total_epochs": E,
                                  "model_info": {"model_params": 1e6 * (k + 1),
                                                 "inference_time": 0.01 * (k + 1)}}
    torch.save({"metrics_dict": tasks, "info_names": ["model_params", "inference_time"],
                "task_list": list(tasks), "data": data}, path)
    return path


def test_official_pth_converter_round_trip(tmp_path):
    from adapters import open_file
    from adapters.tnb101 import convert_official

    src = _write_tnb_pth(tmp_path / "transnas-bench_v10141024.pth")
    convert_official(src, tmp_path / "micro.h5", "micro")
    b = open_file("tnb101-micro", tmp_path / "micro.h5")
    assert list(b.archs) == ["64-41414-0_00_000", "64-41414-3_12_010", "64-41414-3_33_333"]
    assert b.query([1], "valid_top1", "class_scene")[0] == 100.0  # best over epochs
    curve = [b.query([1], "valid_top1_curve", "class_scene", epoch=e)[0] for e in (1, 3)]
    assert curve == [10.5, 12.5]
    assert b.query([2], "train_top1_curve", "jigsaw", epoch=5)[0] == 24.0
    assert b.cost([2], "train_seconds", "jigsaw")[0] == 1500.0
    assert b.cost([1], "model_params", "room_layout")[0] == 2e6
    assert b.protocol("room_layout")["search_metric"] == "valid_neg_loss"
    b.close()
    convert_official(src, tmp_path / "macro.h5", "macro")
    m = open_file("tnb101-macro", tmp_path / "macro.h5")
    assert m.num_archs == 2 and m.encode([1]).tolist() == [[1, 3, 2, 4, 0, 0]]
    m.close()


def test_corrupted_pth_is_one_line(tmp_path, env_home):
    src = _write_tnb_pth(tmp_path / "transnas-bench_v10141024.pth")
    src.write_bytes(src.read_bytes()[:300])
    proc = run_cli("data", "convert", "tnb101-micro", "--from", str(src), "--out",
                   str(tmp_path / "o.h5"), env={"NAS_HARNESS_HOME": str(env_home)})
    from tests.helpers import assert_one_line_error

    assert_one_line_error(proc, "cannot read as the TransNAS-Bench-101 .pth")


def test_backbones_match_published_parameter_counts(tnb, data_root):
    """Our TNB101 networks (backbone + the classification head) have exactly the parameter
    counts NAS-Bench-Suite-Zero published for every micro and macro arch it scored."""
    import torch

    for space in ("micro", "macro"):
        bench = tnb[space]
        pub = json.loads((data_root / "zc-naslib" /
                          f"zc_transbench101_{space}@e5a821c2.json").read_text())
        for task in ("class_scene", "class_object"):
            recs = list(pub[task].items())
            for net, rec in recs[:: max(1, len(recs) // 60)]:
                code = arch_string(space, [int(x) for x in net.strip("()").split(",")])
                with torch.device("meta"):
                    model = bench.build_model([code], task)
                n = sum(p.numel() for p in model.parameters())
                assert n == round(rec["params"]["score"] * 1e6), (space, task, code)
    x = torch.zeros(2, 3, 64, 64)
    assert tnb["micro"].build_model(["64-41414-3_12_010"], "class_object")(x).shape == (2, 100)
    assert tnb["macro"].build_model(["64-1324-basic"], "normal")(x).shape[0] == 2  # backbone


def test_data_free_proxies_run_on_tnb101_and_the_others_say_why(tnb, data_root):
    """No Taskonomy images here: data-dependent proxies are not run (one reason line),
    data-free ones are, and our params equal NASLib's published counts."""
    from harness.proxies.scoring import ArchScorer, published_scores, unavailable

    reg = default_registry()
    bench = tnb["micro"]
    for name in ("snip", "grad_norm", "jacov", "nwot", "fisher", "grasp", "ntk"):
        assert "no Taskonomy images" in unavailable(reg.get(name), bench, "class_scene")
    assert "no 'flops' cost" in unavailable(reg.get("flops"), bench, "class_scene")
    for name in ("synflow", "zen", "l2_norm", "params"):
        assert unavailable(reg.get(name), bench, "room_layout") is None
    pub = published_scores(bench, "class_scene", data_root)
    assert len(pub["params"]) == 711 and "synflow" not in pub
    archs = sorted(pub["params"])[::150]
    kw = dict(experiment_seed=1, seed=0, batch_size=2, device="cpu")
    params = ArchScorer(reg.get("params"), "params", bench, "class_scene", **kw)
    assert [params.score(a)[0] for a in archs] == [round(pub["params"][a] * 1e6)
                                                   for a in archs]
    syn = ArchScorer(reg.get("synflow"), "synflow", bench, "class_scene", **kw)
    assert np.isfinite([syn.score(a)[0] for a in archs[:2]]).all()


def test_published_tnb101_correlations_follow_the_raw_json(tnb, data_root, harness_home):
    """A published TNB101 cell correlates NASLib's scores with the table's test metric; the
    same number follows from the raw JSON and the raw TNB101 table by arch string."""
    from scipy.stats import spearmanr

    from harness.proxies.cells import ProxyCell, run_proxy_cell
    from harness.proxies.scoring import ScoreCache

    reg = default_registry()
    bench = tnb["macro"]
    cell = ProxyCell("jacov", "tnb101-macro", "autoencoder", 0, 0, 0, "none", 1,
                     published=True)
    row = run_proxy_cell(reg.get("jacov"), cell, bench, reg,
                         ScoreCache(harness_home / "tnbpub.sqlite"))
    raw = json.loads((data_root / "zc-naslib" /
                      "zc_transbench101_macro@e5a821c2.json").read_text())["autoencoder"]
    codes = [arch_string("macro", [int(x) for x in k.strip("()").split(",")]) for k in raw]
    acc = bench.query(codes, "test_ssim", "autoencoder")
    ours = spearmanr([r["jacov"]["score"] for r in raw.values()], acc).statistic
    assert row["result"]["test"]["n"] == len(raw) == 725
    assert row["result"]["test"]["spearman"] == pytest.approx(ours, abs=1e-9)
