"""A one-shot cell's batches made on its device: the two image pools uploaded once as uint8
tensors, and per step only the batch indices and the crop/flip draws (a few hundred
integers) sent over; the gather, zero-padded crop, flip and normalisation run on the device.

The draws come from the same numpy stream in the same order as the host path
(:func:`harness.oneshot.runner.step_batches`), so a cell sees the same augmented images on
either path (tested on the CPU: ``tests/test_oneshot_gpu_paths.py``); only where the pixel
work happens differs. With ``channels_last`` the batches come in that memory format (the
layout convolutions prefer on recent GPUs).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class DeviceBatches:
    """``pools`` (:class:`adapters.nb201_search_data.SearchPools`) on ``device``."""

    def __init__(self, pools, device: str, channels_last: bool = False):
        import torch

        self.pools, self.device, self.channels_last = pools, device, channels_last
        self.x_train = torch.from_numpy(np.ascontiguousarray(pools.x_train)).to(device)
        self.y_train = torch.from_numpy(pools.y_train).to(device)
        self.x_valid = torch.from_numpy(np.ascontiguousarray(pools.x_valid)).to(device)
        self.y_valid = torch.from_numpy(pools.y_valid).to(device)
        shape = (1, 1, 1, 3)
        self.mean = torch.from_numpy(pools.mean.astype(np.float32)).to(device).view(shape)
        self.std = torch.from_numpy(pools.std.astype(np.float32)).to(device).view(shape)

    def _augment(self, x, idx: np.ndarray, rng: np.random.Generator):
        """``x[idx]`` cropped and flipped as ``SearchPools.augment`` does, drawing the same
        numbers from ``rng``; normalised, NCHW, in torch's default dtype."""
        import torch

        n, p = len(idx), self.pools.pad
        rows, cols = self.pools.crop_flip(n, x.shape[1], x.shape[2], rng)

        def up(a: np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(a)).to(self.device, non_blocking=True)

        padded = torch.nn.functional.pad(x[up(idx)], (0, 0, p, p, p, p))  # NHWC, zeros
        out = padded[torch.arange(n, device=self.device)[:, None, None],
                     up(rows)[:, :, None], up(cols)[:, None, :]]
        out = (out.to(torch.float32) / 255 - self.mean) / self.std
        out = out.permute(0, 3, 1, 2).to(torch.get_default_dtype())
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return out.contiguous(memory_format=fmt)

    def step(self, perm: np.ndarray, step: int, B: int, data: np.random.Generator
             ) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
        """(train, valid) batches of ``step``, as ``step_batches`` makes them."""
        import torch

        idx = perm[step * B:(step + 1) * B]
        vidx = data.integers(0, len(self.pools.y_valid), B)
        train = (self._augment(self.x_train, idx, data),
                 self.y_train[torch.from_numpy(idx).to(self.device)])
        valid = (self._augment(self.x_valid, vidx, data),
                 self.y_valid[torch.from_numpy(vidx).to(self.device)])
        return train, valid
