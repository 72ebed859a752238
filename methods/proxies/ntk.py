"""``ntk``: condition number of the neural tangent kernel (Chen, Gong, Wang, "Neural
Architecture Search on ImageNet in Four GPU Hours: A Theoretically Inspired Perspective"
(TE-NAS), ICLR 2021)."""

import numpy as np
import torch

from harness.api import Proxy


class NtkConditionNumber(Proxy):
    """-kappa, kappa = lambda_max / lambda_min of the NTK Theta = J J^T, where J[i] is the
    gradient of sample i's summed logits w.r.t. every weight tensor (parameters named
    ``weight``), as TE-NAS computes it: network in train mode (batch-norm statistics of the
    batch, so samples interact), the first ``batch`` images of the minibatch (TE-NAS's
    default NTK batch is 16), one forward and one backward per sample through its graph (as
    TE-NAS does; 1.6-1.8x faster on CPU than torch.func.jacrev's vectorised rows, same
    values to 1e-9). Lower kappa trains better, so the score is -kappa."""

    #: no path: the NTK is singular (condition number undefined)
    undefined_on_disconnected = True

    version = "2"
    mutates_model = False  # reads weights; its forward moves BN running statistics only
    batch = 16

    def _score(self, ctx) -> float:
        model = ctx.model.train()
        x = ctx.inputs[: self.batch]
        weights = [p for n, p in model.named_parameters() if "weight" in n]
        out = model(x).sum(dim=1)
        rows = []
        for i in range(x.shape[0]):
            grads = torch.autograd.grad(out[i], weights, retain_graph=i + 1 < x.shape[0],
                                        allow_unused=True)
            rows.append(torch.cat([(g if g is not None else torch.zeros_like(w)).reshape(-1)
                                   for g, w in zip(grads, weights, strict=True)]))
        J = torch.stack(rows).double()
        eig = np.linalg.eigvalsh((J @ J.t()).cpu().numpy())
        if eig[0] <= 0:
            return float("nan")
        return float(-(eig[-1] / eig[0]))
