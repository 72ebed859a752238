"""``jacov`` (Mellor et al., "Neural Architecture Search without Training", arXiv v1 2020;
Abdelfattah et al.'s ``jacob_cov``)."""

import numpy as np

from harness.api import Proxy


class JacobianCovariance(Proxy):
    """Correlations of the input Jacobians of a minibatch: with eigenvalues l of their
    correlation matrix, score = -sum(log(l + k) + 1/(l + k)), k = 1e-5."""

    #: no path: every input Jacobian is zero, their correlations undefined
    undefined_on_disconnected = True
    shared_pass = "jacobian"

    def _observe(self, ctx) -> None:
        return None

    def _collect(self, ctx, observed, outcome) -> float:
        jac = outcome.reshape(outcome.shape[0], -1).double().cpu().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant row -> NaN score
            corr = np.corrcoef(jac)
        if not np.isfinite(corr).all():
            return float("nan")
        eig = np.linalg.eigvalsh(corr)
        k = 1e-5
        return float(-np.sum(np.log(eig + k) + 1.0 / (eig + k)))
