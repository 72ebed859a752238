"""Image sources: the shared JPEG CIFAR-10 and stand-in, and the official file formats."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from adapters import images
from harness.core.errors import DataMissingError


@pytest.fixture(autouse=True)
def _fresh_cache():
    images._CACHE.clear()
    yield
    images._CACHE.clear()


def test_shared_sources_and_normalisation(data_root):
    c10 = images.images_for("cifar10", data_root)
    assert c10.name == "cifar10-jpeg" and len(c10.labels) == 50_000
    x, y = c10.batch(np.random.default_rng(0), 256)
    assert x.shape == (256, 3, 32, 32) and x.dtype == np.float32
    # NB201 normalisation: roughly zero mean, unit std per channel on real images
    assert np.all(np.abs(x.mean(axis=(0, 2, 3))) < 0.15)
    assert np.all(np.abs(x.std(axis=(0, 2, 3)) - 1) < 0.15)
    x2, y2 = c10.batch(np.random.default_rng(0), 256)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)  # same stream, same batch
    c100 = images.images_for("cifar100", data_root)
    assert "100-way head" in c100.describe
    in16 = images.images_for("ImageNet16-120", data_root)
    assert "STAND-IN" in in16.describe and in16.num_classes == 120
    assert in16.batch(np.random.default_rng(1), 8)[0].shape == (8, 3, 16, 16)


def _official_root(tmp_path):
    rng = np.random.default_rng(0)
    c10 = tmp_path / "cifar-10-batches-py"
    c10.mkdir()
    for i in (1, 2):
        data = rng.integers(0, 256, size=(20, 3072), dtype=np.uint8)
        data[0, :1024] = 255  # first image: red channel saturated
        data[0, 1024:] = 0
        with open(c10 / f"data_batch_{i}", "wb") as fh:
            pickle.dump({b"data": data, b"labels": list(range(10)) * 2,
                         b"batch_label": b"x"}, fh, protocol=2)
    c100 = tmp_path / "cifar-100-python"
    c100.mkdir()
    with open(c100 / "train", "wb") as fh:
        pickle.dump({b"data": rng.integers(0, 256, size=(30, 3072), dtype=np.uint8),
                     b"fine_labels": list(range(30)), b"coarse_labels": [0] * 30}, fh,
                    protocol=2)
    im = tmp_path / "ImageNet16"
    im.mkdir()
    with open(im / "train_data_batch_1", "wb") as fh:
        pickle.dump({"data": rng.integers(0, 256, size=(6, 768), dtype=np.uint8),
                     "labels": [1, 120, 121, 500, 2, 3]}, fh)
    return tmp_path


def test_official_files_are_preferred_and_read_correctly(tmp_path):
    root = _official_root(tmp_path)
    c10 = images.images_for("cifar10", root)
    assert c10.name == "cifar10-python" and len(c10.labels) == 40
    raw = c10._loader(np.array([0]))
    assert raw.shape == (1, 32, 32, 3) and (raw[0, :, :, 0] == 255).all() and (
        raw[0, :, :, 1:] == 0).all()  # CHW rows -> HWC images
    c100 = images.images_for("cifar100", root)
    assert c100.name == "cifar100-python" and c100.num_classes == 100
    in16 = images.images_for("ImageNet16-120", root)
    assert in16.labels.tolist() == [0, 119, 1, 2]  # 1-based, first 120 classes only
    x, y = in16.batch(np.random.default_rng(0), 4)
    assert x.shape == (4, 3, 16, 16)


def test_missing_images_explain_the_fix(tmp_path):
    with pytest.raises(DataMissingError, match="no images for ImageNet16-120"):
        images.images_for("ImageNet16-120", tmp_path)
