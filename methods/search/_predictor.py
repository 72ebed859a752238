"""Small numpy models the model-based search strategies share: the one-hot encoding of a
space's architectures and an ensemble of feed-forward networks (BANANAS's neural predictor).

Search cells run without torch (one thread, milliseconds per query), so the ensemble is
written in numpy: every member is trained at once as a batch of matrices, full-batch Adam on
the mean absolute error, all initial weights drawn from the cell's stream. Training works in
preallocated buffers (one matmul per layer and pass for all members, every elementwise step
in place), since at BANANAS's sizes (5 members, width 20, <= a few hundred archs) the cost
is numpy's per-call overhead as much as arithmetic.

Weights and activations are float64 by default (``precision=64``). In float32 (the original
Keras model's type) the fitted predictions depend on which BLAS kernel numpy's OpenBLAS
picks for the CPU (AVX-512 vs AVX2 vs AVX): 40 steps of Adam on the sign of the residuals
amplify the kernels' different rounding into different proposals, so one seed's search
result differed between CI machines. In float64 the kernels' differences (~1e-15) stay far
below anything a proposal depends on (tests/test_bananas_kernels.py runs the same searches
under three kernels and compares them).
"""

from __future__ import annotations

import numpy as np

from harness.api import SearchView


def one_hot(oracle: SearchView, archs) -> np.ndarray:
    """Each position of the space's encoding (NB201: the op of each edge; NB101: adjacency
    bits and ops; TNB101: per-cell choices) as a one-hot block of ``num_ops`` columns."""
    enc = oracle.encode(np.asarray(archs, dtype=np.int64))
    n, p = enc.shape
    out = np.zeros((n, p * oracle.num_ops))
    cols = np.arange(p) * oracle.num_ops + enc.astype(np.int64)
    out[np.arange(n)[:, None], cols] = 1.0
    return out


class MlpEnsemble:
    """``members`` ReLU networks of ``layers`` hidden layers of ``width`` units, fitted
    independently (own initialisation) on the same data; the spread of their predictions
    is the uncertainty BANANAS samples from.

    ``fit`` starts every member from a fresh He initialisation and trains ``epochs`` steps;
    ``refit`` continues from the current weights (fresh Adam moments, the targets
    standardised anew) for the given number of steps: BANANAS's optional warm start from
    its second round on, when the data grew by one batch of queries.
    """

    def __init__(self, rng: np.random.Generator, members: int = 5, layers: int = 10,
                 width: int = 20, epochs: int = 40, lr: float = 0.01, precision: int = 64):
        if precision not in (32, 64):
            raise ValueError(f"precision must be 32 or 64 (bits), not {precision}")
        self.rng, self.members, self.layers, self.width = rng, members, layers, width
        self.dtype = np.float64 if precision == 64 else np.float32
        self.epochs, self.lr = epochs, lr
        self.flat = np.zeros(0)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        self.mean, self.scale = 0.0, 1.0

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` ran (``refit`` needs weights to start from)."""
        return bool(self.weights)

    def _sizes(self, d: int) -> list[int]:
        return [d] + [self.width] * self.layers + [1]

    def _views(self, flat: np.ndarray, d: int) -> list[np.ndarray]:
        """The weights then the biases of every layer as views of ``flat`` (Adam updates
        the one vector in place)."""
        sizes = self._sizes(d)
        shapes = [(self.members, a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        shapes += [(self.members, 1, b) for b in sizes[1:]]
        views, at = [], 0
        for s in shapes:
            size = int(np.prod(s))
            views.append(flat[at:at + size].reshape(s))
            at += size
        return views

    def _init(self, d: int) -> None:
        sizes = self._sizes(d)
        k = len(sizes) - 1
        total = sum(self.members * (a * b + b) for a, b in zip(sizes[:-1], sizes[1:],
                                                                 strict=True))
        self.flat = np.zeros(total, dtype=self.dtype)
        views = self._views(self.flat, d)
        self.weights, self.biases = views[:k], views[k:]
        for w in self.weights:  # He initialisation
            w[...] = self.rng.normal(0.0, np.sqrt(2.0 / w.shape[1]), w.shape)

    def _buffers(self, x: np.ndarray) -> list[np.ndarray]:
        """The input (one copy per member, in the fit's precision) and one output buffer
        per layer."""
        n = len(x)
        acts = [np.ascontiguousarray(np.broadcast_to(x.astype(self.dtype),
                                                     (self.members, *x.shape)))]
        acts += [np.empty((self.members, n, b), dtype=self.dtype)
                 for b in self._sizes(x.shape[1])[1:]]
        return acts

    def _forward(self, acts: list[np.ndarray]) -> None:
        """Every layer's output into ``acts`` (from ``_buffers``), ReLU but on the last."""
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            np.matmul(acts[i], w, out=acts[i + 1])
            acts[i + 1] += b
            if i < last:
                np.maximum(acts[i + 1], 0.0, out=acts[i + 1])

    def fit(self, x: np.ndarray, y: np.ndarray) -> MlpEnsemble:
        """Fit every member on (x, y) from a fresh initialisation, y standardised;
        ``epochs`` steps of full-batch Adam on the MAE."""
        self._init(x.shape[1])
        return self._train(x, y, self.epochs)

    def refit(self, x: np.ndarray, y: np.ndarray, epochs: int) -> MlpEnsemble:
        """Continue training the fitted members on (x, y) for ``epochs`` steps (a warm
        start); the same encoding width as the first fit."""
        if not self.fitted or self.weights[0].shape[1] != x.shape[1]:
            raise ValueError("refit needs a fit on the same encoding first")
        return self._train(x, y, epochs)

    def _train(self, x: np.ndarray, y: np.ndarray, epochs: int) -> MlpEnsemble:
        self.mean = float(np.mean(y))
        self.scale = float(np.std(y)) or 1.0
        t = ((y - self.mean) / self.scale)[:, None].astype(self.dtype)
        n, k = len(y), len(self.weights)
        acts = self._buffers(x)
        acts_t = [a.transpose(0, 2, 1) for a in acts]
        weights_t = [w.transpose(0, 2, 1) for w in self.weights]
        # d loss / d each layer's output
        grads = [np.empty_like(a) for a in acts[1:]]
        grad = np.zeros_like(self.flat)
        views = self._views(grad, x.shape[1])
        m, v, tmp = np.zeros_like(self.flat), np.zeros_like(self.flat), np.empty_like(self.flat)
        b1, b2, eps = 0.9, 0.999, 1e-8
        last = k - 1
        for step in range(1, epochs + 1):
            self._forward(acts)
            g = grads[last]
            np.subtract(acts[k], t, out=g)
            np.sign(g, out=g)
            g *= 1.0 / n  # d MAE / d output
            for i in range(last, -1, -1):
                np.matmul(acts_t[i], g, out=views[i])
                np.sum(g, axis=1, keepdims=True, out=views[k + i])
                if i:
                    np.matmul(g, weights_t[i], out=grads[i - 1])
                    g = grads[i - 1]
                    g *= acts[i] > 0
            m *= b1
            np.multiply(grad, 1 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(grad, grad, out=tmp)
            tmp *= 1 - b2
            v += tmp
            np.multiply(v, 1 / (1 - b2**step), out=tmp)
            np.sqrt(tmp, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= self.lr / (1 - b1**step)
            self.flat -= tmp
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions of every member, shape (members, len(x)), in the units of y."""
        acts = self._buffers(x)
        self._forward(acts)
        return acts[-1][..., 0].astype(np.float64) * self.scale + self.mean
