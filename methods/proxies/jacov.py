"""``jacov`` (Mellor et al., "Neural Architecture Search without Training", arXiv v1 2020;
Abdelfattah et al.'s ``jacob_cov``)."""

import numpy as np
import torch

from harness.api import Proxy


class JacobianCovariance(Proxy):
    """Correlations of the input Jacobians of a minibatch: with eigenvalues l of their
    correlation matrix, score = -sum(log(l + k) + 1/(l + k)), k = 1e-5."""

    def _score(self, ctx) -> float:
        x = ctx.inputs.clone().requires_grad_(True)
        ctx.model.zero_grad(set_to_none=True)
        y = ctx.model(x)
        y.backward(torch.ones_like(y))
        jac = x.grad.reshape(x.shape[0], -1).double().cpu().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant row -> NaN score
            corr = np.corrcoef(jac)
        if not np.isfinite(corr).all():
            return float("nan")
        eig = np.linalg.eigvalsh(corr)
        k = 1e-5
        return float(-np.sum(np.log(eig + k) + 1.0 / (eig + k)))
