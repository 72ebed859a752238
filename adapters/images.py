"""Real images for zero-cost proxies: CIFAR-10 (JPEG in HDF5), the ImageNet16-120 stand-in,
and the official CIFAR-10/100 python batches or ImageNet16 files a user may own.

Nothing here is committed: every source is read from the raw-data root. Minibatches are
drawn from an explicit numpy Generator (the cell's stream), so a seed gives the same images
to every proxy and architecture. Preprocessing is NB201's per-channel mean/std.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core import config
from harness.core.errors import DataMissingError
from harness.data import safe_pickle

# NB201's normalisation constants (xautodl get_datasets)
CIFAR_MEAN = np.array([125.3, 123.0, 113.9]) / 255
CIFAR_STD = np.array([63.0, 62.1, 66.7]) / 255
IN16_MEAN = np.array([122.68, 116.66, 104.01]) / 255
IN16_STD = np.array([63.22, 61.26, 65.09]) / 255


@dataclass
class ImageSource:
    """A pool of training images: uint8 loader + labels + a description for tables."""

    name: str
    describe: str
    labels: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    _loader: object
    num_classes: int

    def batch(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """(float32 NCHW normalised images, int64 labels) drawn without replacement."""
        idx = np.sort(rng.choice(len(self.labels), size=size, replace=False))
        raw = self._loader(idx)  # (B, H, W, 3) uint8
        x = (raw.astype(np.float32) / 255 - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32), \
            self.labels[idx].astype(np.int64)


def _cifar10_jpeg(root: Path) -> ImageSource:
    import h5py
    from PIL import Image

    path = root / "cifar10" / "cifar10-jpeg.h5"
    f = h5py.File(path, "r")
    labels = f["train/label"][...]

    def load(idx: np.ndarray) -> np.ndarray:
        data = f["train/jpeg"]
        return np.stack([np.asarray(Image.open(io.BytesIO(data[i].tobytes())).convert("RGB"))
                         for i in idx])

    return ImageSource("cifar10-jpeg", "CIFAR-10 train images (JPEG-decoded copy, "
                       "../shared/data/cifar10)", labels, CIFAR_MEAN, CIFAR_STD, load, 10)


def _in16_standin(root: Path) -> ImageSource:
    path = root / "imagenet16-standin" / "imagenet16-120-standin.npz"
    z = np.load(path, allow_pickle=False)
    x, y = z["x_train"], z["y_train"]
    return ImageSource("imagenet16-standin", "ImageNet16-120 STAND-IN: real ImageNet photos at "
                       "16x16, 120 Tiny-ImageNet classes (not the benchmark's own classes)",
                       y.astype(np.int64), IN16_MEAN, IN16_STD, lambda idx: x[idx], 120)


def _cifar_python(folder: Path, hundred: bool) -> ImageSource:
    files = [folder / "train"] if hundred else sorted(folder.glob("data_batch_*"))
    xs, ys = [], []
    for fpath in files:
        d = safe_pickle.load_path(fpath, encoding="bytes")
        xs.append(np.asarray(d[b"data"]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.asarray(d[b"fine_labels" if hundred else b"labels"]))
    x, y = np.concatenate(xs), np.concatenate(ys)
    name = "cifar100-python" if hundred else "cifar10-python"
    return ImageSource(name, f"official {name} batches", y.astype(np.int64), CIFAR_MEAN,
                       CIFAR_STD, lambda idx: x[idx], 100 if hundred else 10)


def _imagenet16_official(folder: Path) -> ImageSource:
    xs, ys = [], []
    for fpath in sorted(folder.glob("train_data_batch_*")):
        d = safe_pickle.load_path(fpath, encoding="latin1")
        lab = np.asarray(d["labels"]) - 1  # 1-based in the release
        keep = lab < 120  # ImageNet16-120 = the first 120 classes
        xs.append(np.asarray(d["data"]).reshape(-1, 3, 16, 16).transpose(0, 2, 3, 1)[keep])
        ys.append(lab[keep])
    x, y = np.concatenate(xs), np.concatenate(ys)
    return ImageSource("imagenet16-120", "official ImageNet16-120 training images",
                       y.astype(np.int64), IN16_MEAN, IN16_STD, lambda idx: x[idx], 120)


_CACHE: dict[str, ImageSource] = {}


def images_for(dataset: str, root: Path | None = None, benchmark: str = "nb201"
               ) -> ImageSource:
    """The best real images available for a benchmark's dataset, in order of preference.

    NB201 cifar10/cifar10-valid and NB101 (a CIFAR-10 benchmark): official CIFAR-10
    batches, else the JPEG copy. cifar100: official CIFAR-100, else CIFAR-10 images (the
    table then says "CIFAR-10 images, 100-way head"). ImageNet16-120: official files, else
    the stand-in. TransNAS-Bench-101 tasks need Taskonomy images, which no data root here
    has: DataMissingError (only data-free proxies run there).
    """
    if benchmark.startswith("tnb101"):
        raise DataMissingError(f"{benchmark}/{dataset}: no Taskonomy images in the data root, "
                               "so only data-free proxies (synflow, zen, l2_norm, params) "
                               "run on TransNAS-Bench-101")
    if benchmark == "nb101":
        dataset = "cifar10"
    root = root or config.data_root()
    if root is None:
        raise DataMissingError("no data root: set NAS_HARNESS_DATA (or --data-root) to the "
                               "folder with cifar10/ and imagenet16-standin/")
    key = f"{root}:{dataset}"
    if key in _CACHE:
        return _CACHE[key]
    src: ImageSource | None = None
    if dataset in ("cifar10", "cifar10-valid", "cifar100"):
        if dataset == "cifar100" and (root / "cifar-100-python" / "train").exists():
            src = _cifar_python(root / "cifar-100-python", True)
        elif (root / "cifar-10-batches-py" / "data_batch_1").exists():
            src = _cifar_python(root / "cifar-10-batches-py", False)
        elif (root / "cifar10" / "cifar10-jpeg.h5").exists():
            src = _cifar10_jpeg(root)
        if src is not None and dataset == "cifar100" and src.num_classes == 10:
            src = ImageSource(src.name + "-as-cifar100", src.describe + "; no CIFAR-100 images: "
                              "CIFAR-10 images with a 100-way head", src.labels, src.mean,
                              src.std, src._loader, 10)
    elif dataset == "ImageNet16-120":
        if (root / "ImageNet16" / "train_data_batch_1").exists():
            src = _imagenet16_official(root / "ImageNet16")
        elif (root / "imagenet16-standin" / "imagenet16-120-standin.npz").exists():
            src = _in16_standin(root)
    if src is None:
        raise DataMissingError(f"no images for {dataset} under {root}; expected cifar10/"
                               "cifar10-jpeg.h5, imagenet16-standin/ or the official files")
    _CACHE[key] = src
    return src
