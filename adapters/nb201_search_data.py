"""The images a NAS-Bench-201 one-shot search trains on, split and augmented as the
NB201 reference code does (D-X-Y/AutoDL-Projects ``get_nas_search_loaders``):

* ``cifar10`` (the NB201 ``cifar10-valid`` setting): the 50k training images split 25k/25k;
  weights train on one half, architecture parameters on the other. The official split
  (``cifar-split.txt``) indexes the official python batches; with those two files in the data
  root it is used, otherwise (e.g. the JPEG copy, whose order differs) the split is a
  permutation drawn from the experiment seed, and the description says so.
* ``cifar100`` / ``ImageNet16-120``: weights train on the whole training set, architecture
  parameters on the x-valid half of the test set (``cifar100-test-split.txt`` /
  ``imagenet-16-120-test-split.txt`` when present, else a seeded half). Without CIFAR-100
  images (none in the shared data) the search cannot run there; ImageNet16-120 falls back to
  the stand-in's own train/val folders (real ImageNet photos, not the benchmark's classes).

Both pools see the training augmentation of the reference (random crop with zero padding
4 at 32 px / 2 at 16 px, horizontal flip, NB201 per-channel normalisation). Reduced
configurations take the first ``n`` images of each (already permuted) pool.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from adapters.images import CIFAR_MEAN, CIFAR_STD, IN16_MEAN, IN16_STD
from harness.core import config
from harness.core.errors import DataMissingError, UnknownNameError
from harness.core.seeds import generator
from harness.data import safe_pickle

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


@dataclass(frozen=True)
class SearchPools:
    """uint8 NHWC images of the two pools of a search, their labels and how they were made."""

    dataset: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    num_classes: int
    mean: np.ndarray
    std: np.ndarray
    pad: int
    describe: str

    def subset(self, n_train: int | None, n_valid: int | None) -> SearchPools:
        """The first ``n`` images of each pool (None: all of it)."""
        def cut(n, total):
            if n is not None and n > total:
                raise DataMissingError(f"{self.dataset}: the configuration asks for {n} "
                                       f"images but this pool has {total}; lower it")
            return slice(0, n)

        tr, va = cut(n_train, len(self.y_train)), cut(n_valid, len(self.y_valid))
        return replace(self, x_train=self.x_train[tr], y_train=self.y_train[tr],
                       x_valid=self.x_valid[va], y_valid=self.y_valid[va])

    def normalise(self, x: np.ndarray) -> np.ndarray:
        """uint8 NHWC -> float32 NCHW with the NB201 mean/std."""
        out = (x.astype(np.float32) / 255 - self.mean.astype(np.float32)) \
            / self.std.astype(np.float32)
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2))

    def augment(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Random crop of the zero-padded image and a random horizontal flip, per image."""
        n, h, w, _ = x.shape
        p = self.pad
        padded = np.zeros((n, h + 2 * p, w + 2 * p, 3), dtype=np.uint8)
        padded[:, p:p + h, p:p + w] = x
        rows, cols = self.crop_flip(n, h, w, rng)
        out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return self.normalise(out)

    def crop_flip(self, n: int, h: int, w: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
        """The draws of :meth:`augment` for ``n`` images: (n, h) rows and (n, w) columns of
        the zero-padded images to read (a random crop, columns reversed for a flip)."""
        p = self.pad
        dy = rng.integers(0, 2 * p + 1, n)
        dx = rng.integers(0, 2 * p + 1, n)
        flip = rng.random(n) < 0.5
        rows = dy[:, None] + np.arange(h)[None, :]
        cols = dx[:, None] + np.arange(w)[None, :]
        return rows, np.where(flip[:, None], cols[:, ::-1], cols)


# ---- readers of the image files a data root may hold ------------------------------------
def _cifar_jpeg(root: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """The JPEG copy decoded (50k images: ~4 s), cached as arrays in the cache home keyed by
    the source file's size and modification time, so later processes load it in ~0.1 s."""
    import h5py
    from PIL import Image

    src = root / "cifar10" / "cifar10-jpeg.h5"
    st = src.stat()
    cache = config.cache_home() / "images" / f"cifar10-jpeg-{part}-{st.st_size}-" \
                                              f"{st.st_mtime_ns}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            return z["x"], z["y"]
    with h5py.File(src, "r") as f:
        data, labels = f[f"{part}/jpeg"][...], f[f"{part}/label"][...]
    x = np.stack([np.asarray(Image.open(io.BytesIO(b.tobytes())).convert("RGB"))
                  for b in data])
    y = labels.astype(np.int64)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + f".{os.getpid()}.tmp.npz")
    np.savez(tmp, x=x, y=y)
    os.replace(tmp, cache)
    return x, y


def _cifar_python(files: list[Path], label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for fpath in files:
        d = safe_pickle.load_path(fpath, encoding="bytes")
        xs.append(np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
                  .transpose(0, 2, 3, 1))
        ys.append(np.asarray(d[label_key]))
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def _imagenet16(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for fpath in files:
        d = safe_pickle.load_path(fpath, encoding="latin1")
        lab = np.asarray(d["labels"]) - 1  # 1-based in the release
        keep = lab < 120  # ImageNet16-120 = the first 120 classes
        xs.append(np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 16, 16)
                  .transpose(0, 2, 3, 1)[keep])
        ys.append(lab[keep])
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def _split_file(root: Path, name: str, keys: tuple[str, str]) -> tuple[list, list] | None:
    """Index lists of an NB201 split file (``configs/nas-benchmark/<name>``), if present."""
    for cand in (root / name, root / "nas-benchmark" / name):
        if cand.exists():
            d = json.loads(cand.read_text())
            # AutoDL config files store [type, value] pairs
            vals = [d[k][1] if len(d[k]) == 2 and isinstance(d[k][0], str) else d[k]
                    for k in keys]
            return [int(i) for i in vals[0]], [int(i) for i in vals[1]]
    return None


def _halves(n: int, seq: np.random.SeedSequence, first: int) -> tuple[np.ndarray, np.ndarray]:
    perm = generator(seq).permutation(n)
    return perm[:first], perm[first:]


def search_pools(dataset: str, split_seq: np.random.SeedSequence, root: Path | None = None
                 ) -> SearchPools:
    """The two image pools of a one-shot search on ``dataset`` (see the module docstring).
    ``split_seq`` draws the split where no official split file applies; it also permutes
    each pool, so a reduced configuration's first ``n`` images are a random subset."""
    if dataset not in DATASETS:
        raise UnknownNameError(f"one-shot search on '{dataset}': choose one of "
                               f"{', '.join(DATASETS)}")
    root = root or config.data_root()
    if root is None:
        raise DataMissingError("no data root: set NAS_HARNESS_DATA (or --data-root) to the "
                               "folder with cifar10/ and imagenet16-standin/")
    order, perm2 = split_seq.spawn(2)
    if dataset == "cifar10":
        official = root / "cifar-10-batches-py"
        if (official / "data_batch_1").exists():
            x, y = _cifar_python(sorted(official.glob("data_batch_*")), b"labels")
            what = "official CIFAR-10 python batches"
        elif (root / "cifar10" / "cifar10-jpeg.h5").exists():
            x, y = _cifar_jpeg(root, "train")
            what = "CIFAR-10 train images (JPEG-decoded copy, ../shared/data/cifar10)"
        else:
            raise DataMissingError(f"no CIFAR-10 images under {root}: expected "
                                   "cifar-10-batches-py/ or cifar10/cifar10-jpeg.h5")
        split = _split_file(root, "cifar-split.txt", ("train", "valid")) \
            if what.startswith("official") else None
        if split:
            tr, va = np.asarray(split[0]), np.asarray(split[1])
            how = "official NB201 cifar-split.txt (25k/25k of the training set)"
        else:
            tr, va = _halves(len(y), order, len(y) // 2)
            how = ("25k/25k split of the training set drawn from the experiment seed (the "
                   "official cifar-split.txt indexes the official batches)")
        xt, yt, xv, yv = x[tr], y[tr], x[va], y[va]
        ncls, mean, std, pad = 10, CIFAR_MEAN, CIFAR_STD, 4
    elif dataset == "cifar100":
        official = root / "cifar-100-python"
        if not (official / "train").exists():
            raise DataMissingError(f"cifar100: no CIFAR-100 images under {root} (the shared "
                                   "data has none); add the official cifar-100-python folder")
        xt, yt = _cifar_python([official / "train"], b"fine_labels")
        xs, ys = _cifar_python([official / "test"], b"fine_labels")
        xv, yv, how = _xvalid(root, "cifar100-test-split.txt", xs, ys, order)
        what, ncls, mean, std, pad = "official CIFAR-100 python files", 100, CIFAR_MEAN, \
            CIFAR_STD, 4
    else:
        official = root / "ImageNet16"
        if (official / "train_data_batch_1").exists():
            xt, yt = _imagenet16(sorted(official.glob("train_data_batch_*")))
            xs, ys = _imagenet16([official / "val_data"])
            xv, yv, how = _xvalid(root, "imagenet-16-120-test-split.txt", xs, ys, order)
            what = "official ImageNet16-120 files"
        elif (root / "imagenet16-standin" / "imagenet16-120-standin.npz").exists():
            z = np.load(root / "imagenet16-standin" / "imagenet16-120-standin.npz",
                        allow_pickle=False)
            xt, yt = z["x_train"], z["y_train"].astype(np.int64)
            xv, yv = z["x_val"], z["y_val"].astype(np.int64)
            what = ("ImageNet16-120 STAND-IN (real ImageNet photos at 16x16, 120 Tiny-ImageNet "
                    "classes, not the benchmark's own)")
            how = "weights on its 60k train images, architecture on its 6k val images"
        else:
            raise DataMissingError(f"ImageNet16-120: no images under {root}: expected "
                                   "ImageNet16/ or imagenet16-standin/")
        ncls, mean, std, pad = 120, IN16_MEAN, IN16_STD, 2
    # permute each pool once, so the first n images of a reduced configuration are random
    g = generator(perm2)
    pt, pv = g.permutation(len(yt)), g.permutation(len(yv))
    return SearchPools(dataset, xt[pt], yt[pt], xv[pv], yv[pv], ncls, mean, std, pad,
                       f"{what}; {how}")


def _xvalid(root: Path, name: str, x: np.ndarray, y: np.ndarray,
            seq: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray, str]:
    split = _split_file(root, name, ("xvalid", "xtest"))
    if split:
        idx = np.asarray(split[0])
        return x[idx], y[idx], f"architecture on x-valid of the official {name}"
    idx, _ = _halves(len(y), seq, len(y) // 2)
    return x[idx], y[idx], ("architecture on a seeded half of the test set (no official "
                            f"{name} in the data root)")


def unavailable(dataset: str, root: Path | None = None) -> str | None:
    """Why a one-shot search on ``dataset`` cannot run with the data root (None: it can)."""
    root = root or config.data_root()
    if root is None:
        return "no data root (set NAS_HARNESS_DATA)"
    have = {
        "cifar10": (root / "cifar-10-batches-py" / "data_batch_1").exists()
        or (root / "cifar10" / "cifar10-jpeg.h5").exists(),
        "cifar100": (root / "cifar-100-python" / "train").exists(),
        "ImageNet16-120": (root / "ImageNet16" / "train_data_batch_1").exists()
        or (root / "imagenet16-standin" / "imagenet16-120-standin.npz").exists(),
    }
    if dataset not in have:
        return f"no one-shot search protocol for '{dataset}'"
    if not have[dataset]:
        return (f"no {dataset} images in the data root {root}"
                + (" (the shared data has none; add the official cifar-100-python folder)"
                   if dataset == "cifar100" else ""))
    return None
