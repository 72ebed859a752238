"""The NB201 torch network and the analytic cost model against independent counts."""

import numpy as np
import pytest

from adapters.nb201_model import NB201Network, count_flops
from adapters.nb201_space import DATASET_SHAPES, analytic_costs, parse_arch


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_all_conv3x3_has_1531546_params_on_cifar10():
    assert n_params(NB201Network([3] * 6, 10)) == 1_531_546


# (arch string, dataset, official params in M, official MFLOPs) from the NATS-Bench
# topology release's own records (fields `params` and `flop`), archs 0, 11 and 284.
OFFICIAL = [
    ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
     "skip_connect~2|", "cifar10", 0.129306, 15.64737),
    ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
     "skip_connect~2|", "ImageNet16-120", 0.136456, 3.91948),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|"
     "avg_pool_3x3~2|", "cifar100", 0.808276, 113.95722),
    ("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|",
     "ImageNet16-120", 0.108456, 2.93644),
]


@pytest.mark.parametrize("arch,dataset,params_m,mflops", OFFICIAL)
def test_costs_match_official_records(arch, dataset, params_m, mflops):
    ops = parse_arch(arch)
    ncls, res = DATASET_SHAPES[dataset]
    model = NB201Network(ops, ncls)
    assert n_params(model) == round(params_m * 1e6)
    assert count_flops(model, res) == pytest.approx(mflops, abs=1e-5)
    p, f = analytic_costs(np.array([ops]), ncls, res)
    assert p[0] == round(params_m * 1e6) and f[0] == pytest.approx(mflops, abs=1e-5)


def test_analytic_costs_equal_torch_counts_on_random_cells():
    rng = np.random.default_rng(3)
    for ops in rng.integers(0, 5, size=(6, 6)):
        for ds in ("cifar10", "cifar100", "ImageNet16-120"):
            ncls, res = DATASET_SHAPES[ds]
            m = NB201Network(list(ops), ncls)
            p, f = analytic_costs(ops[None], ncls, res)
            assert p[0] == n_params(m)
            assert f[0] == pytest.approx(count_flops(m, res), rel=1e-9)


def test_forward_shape():
    import torch

    m = NB201Network([3, 1, 0, 2, 4, 1], 120)
    assert m(torch.zeros(2, 3, 16, 16)).shape == (2, 120)
