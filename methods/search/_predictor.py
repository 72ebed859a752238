"""Small numpy models the model-based search strategies share: the one-hot encoding of a
space's architectures and an ensemble of feed-forward networks (BANANAS's neural predictor).

Search cells run without torch (one thread, milliseconds per query), so the ensemble is
written in numpy: every member is trained at once as a batch of matrices, full-batch Adam on
the mean absolute error, all initial weights drawn from the cell's stream.
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
    is the uncertainty BANANAS samples from."""

    def __init__(self, rng: np.random.Generator, members: int = 5, layers: int = 10,
                 width: int = 20, epochs: int = 200, lr: float = 0.01):
        self.rng, self.members, self.layers, self.width = rng, members, layers, width
        self.epochs, self.lr = epochs, lr
        self.flat = np.zeros(0)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        self.mean, self.scale = 0.0, 1.0

    def _init(self, d: int) -> None:
        """Weights and biases as views of one flat vector, so Adam updates it in one go."""
        sizes = [d] + [self.width] * self.layers + [1]
        shapes = [(self.members, a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        shapes += [(self.members, 1, b) for b in sizes[1:]]
        self.flat = np.zeros(sum(int(np.prod(s)) for s in shapes))
        views, at = [], 0
        for s in shapes:
            views.append(self.flat[at:at + int(np.prod(s))].reshape(s))
            at += int(np.prod(s))
        k = len(sizes) - 1
        self.weights, self.biases = views[:k], views[k:]
        for w in self.weights:  # He initialisation
            w[...] = self.rng.normal(0.0, np.sqrt(2.0 / w.shape[1]), w.shape)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        h = np.broadcast_to(x, (self.members, *x.shape))
        acts = [h]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w + b
            if i < last:
                h = np.maximum(h, 0.0)
            acts.append(h)
        return h[..., 0], acts

    def fit(self, x: np.ndarray, y: np.ndarray) -> MlpEnsemble:
        """Fit every member on (x, y), y standardised; full-batch Adam on the MAE."""
        self.mean = float(np.mean(y))
        self.scale = float(np.std(y)) or 1.0
        t = (y - self.mean) / self.scale
        self._init(x.shape[1])
        m, v = np.zeros_like(self.flat), np.zeros_like(self.flat)
        grad = np.zeros_like(self.flat)
        k = len(self.weights)
        views, at = [], 0
        for p in self.weights + self.biases:
            views.append(grad[at:at + p.size].reshape(p.shape))
            at += p.size
        b1, b2, eps = 0.9, 0.999, 1e-8
        n = len(y)
        for step in range(1, self.epochs + 1):
            out, acts = self._forward(x)
            g = np.sign(out - t)[..., None] / n  # d MAE / d output
            for i in range(k - 1, -1, -1):
                np.matmul(np.swapaxes(acts[i], 1, 2), g, out=views[i])
                views[k + i][...] = g.sum(axis=1, keepdims=True)
                if i:
                    g = (g @ np.swapaxes(self.weights[i], 1, 2)) * (acts[i] > 0)
            m *= b1
            m += (1 - b1) * grad
            v *= b2
            v += (1 - b2) * grad * grad
            self.flat -= (self.lr / (1 - b1**step)) * m / (np.sqrt(v / (1 - b2**step)) + eps)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions of every member, shape (members, len(x)), in the units of y."""
        out, _ = self._forward(x)
        return out * self.scale + self.mean
