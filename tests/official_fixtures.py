"""Tiny files in the exact layout of the official NB201 / NATS-Bench topology releases.

The structures mirror the releases' ArchResults/ResultsCount state dicts (keys, eval-set
names ``x-valid@E``/``x-test@E``/``ori-test@E``, per-(dataset, seed) records, hp keys
'12'/'200' in NATS and 'less'/'full' in NB201 v1_1). Values are synthetic but follow the
real structure, including a seed missing for one arch.
"""

from __future__ import annotations

import bz2
import collections
import pickle
from pathlib import Path

import numpy as np

from adapters.nb201_space import DATASET_SHAPES, analytic_costs, parse_arch

ARCHS = [
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|",
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|",
]
EVAL = {"cifar10-valid": ["x-valid", "ori-test"], "cifar10": ["ori-test"],
        "cifar100": ["ori-test", "x-valid", "x-test"],
        "ImageNet16-120": ["ori-test", "x-valid", "x-test"]}
SEEDS = {"200": [777, 888, 999], "12": [111, 777]}


def value(idx: int, ds: str, seed: int, kind: str, epoch: int, hp: str) -> float:
    """Deterministic synthetic value so tests can recompute what was written."""
    base = 50 + 10 * idx + {"cifar10-valid": 1, "cifar10": 2, "cifar100": -20,
                            "ImageNet16-120": -30}[ds]
    return float(base + 0.01 * epoch + 0.1 * (seed % 10) + {"train": 5, "x-valid": 0,
                 "x-test": -0.5, "ori-test": -0.25}[kind] + (0 if hp == "200" else -7))


def results_count(idx: int, arch: str, ds: str, seed: int, hp: str) -> dict:
    epochs = 200 if hp == "200" else 12
    ncls, res = DATASET_SHAPES[ds]
    p, f = analytic_costs(np.array([parse_arch(arch)]), ncls, res)
    acc, loss = {}, {}
    for name in EVAL[ds]:
        for e in range(epochs):
            acc[f"{name}@{e}"] = value(idx, ds, seed, name, e, hp)
            loss[f"{name}@{e}"] = 1.0 / (1 + e)
    return {
        "name": ds, "seed": f"{seed:04d}", "epochs": epochs,
        "train_acc1es": {e: value(idx, ds, seed, "train", e, hp) for e in range(epochs)},
        "train_acc5es": {e: 99.0 for e in range(epochs)},
        "train_losses": {e: 2.0 / (1 + e) for e in range(epochs)},
        "train_times": collections.OrderedDict((e, 10.0 + idx) for e in range(epochs)),
        "arch_config": {"channel": 16, "num_cells": 5, "arch_str": arch, "class_num": ncls},
        "params": round(float(p[0]) / 1e6, 6), "flop": round(float(f[0]), 5),
        "latency": [np.float64(0.01 + idx / 1000)],
        "eval_names": EVAL[ds], "eval_acc1es": acc, "eval_times": {k: 1.0 for k in acc},
        "eval_losses": loss, "net_state_dict": None,
    }


def arch_results(idx: int, hp: str, drop_seed: bool = False) -> dict:
    arch = ARCHS[idx]
    seeds = {ds: list(SEEDS[hp]) if ds == "cifar10-valid" or hp == "200" else [111]
             for ds in EVAL}
    if drop_seed and hp == "200":
        seeds["cifar100"] = seeds["cifar100"][:2]  # this arch lacks seed 999 on cifar100
    return {"arch_index": idx, "arch_str": arch, "clear_net_done": True,
            "dataset_seed": seeds,
            "all_results": {(ds, s): results_count(idx, arch, ds, s, hp)
                            for ds, ss in seeds.items() for s in ss}}


def meta(n: int = len(ARCHS)) -> dict:
    return {"meta_archs": ARCHS[:n], "total_archs": n, "arch2infos": None,
            "evaluated_indexes": set()}


def _pbz2(obj, path: Path) -> None:
    path.write_bytes(bz2.compress(pickle.dumps(obj, protocol=4)))


def write_nats_dir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _pbz2(meta(), folder / "meta.pickle.pbz2")
    for i in range(len(ARCHS)):
        _pbz2(collections.OrderedDict(
            (hp, arch_results(i, hp, drop_seed=(i == 2))) for hp in ("12", "200")),
            folder / f"{i:06d}.pickle.pbz2")
    return folder


def write_nats_pbz2(path: Path) -> Path:
    m = meta()
    m["arch2infos"] = {i: collections.OrderedDict(
        (hp, arch_results(i, hp, drop_seed=(i == 2))) for hp in ("12", "200"))
        for i in range(len(ARCHS))}
    m["evaluated_indexes"] = set(range(len(ARCHS)))
    _pbz2(m, path)
    return path


def write_nb201_pth(path: Path) -> Path:
    import torch

    m = meta()
    m["arch2infos"] = {i: {"less": arch_results(i, "12"), "full": arch_results(i, "200",
                                                                               i == 2)}
                       for i in range(len(ARCHS))}
    m["evaluated_indexes"] = set(range(len(ARCHS)))
    torch.save(m, path)
    return path
