"""``ntk``: condition number of the neural tangent kernel (Chen, Gong, Wang, "Neural
Architecture Search on ImageNet in Four GPU Hours: A Theoretically Inspired Perspective"
(TE-NAS), ICLR 2021)."""

import numpy as np
import torch
from torch.func import functional_call, jacrev

from harness.api import Proxy


class NtkConditionNumber(Proxy):
    """-kappa, kappa = lambda_max / lambda_min of the NTK Theta = J J^T, where J[i] is the
    gradient of sample i's summed logits w.r.t. every weight tensor (parameters named
    ``weight``), as TE-NAS computes it: network in train mode (batch-norm statistics of the
    batch, so samples interact), the first ``batch`` images of the minibatch (TE-NAS's
    default NTK batch is 16). Lower kappa trains better, so the score is -kappa."""

    #: no path: the NTK is singular (condition number undefined)
    undefined_on_disconnected = True

    version = "2"
    mutates_model = True  # batch-norm layers stop tracking running statistics
    batch = 16

    def _score(self, ctx) -> float:
        model = ctx.model.train()
        for m in model.modules():  # batch statistics, without updating running buffers
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.track_running_stats = False
        x = ctx.inputs[: self.batch]
        weights = {k: v.detach() for k, v in model.named_parameters() if "weight" in k}
        rest = {k: v.detach() for k, v in model.named_parameters() if "weight" not in k}
        buffers = dict(model.named_buffers())

        def per_sample_logit_sums(w):
            return functional_call(model, ({**w, **rest}, buffers), (x,)).sum(dim=1)

        jac = jacrev(per_sample_logit_sums)(weights)  # {name: (B, *shape)}
        b = x.shape[0]
        J = torch.cat([g.reshape(b, -1) for g in jac.values()], dim=1).double()
        eig = np.linalg.eigvalsh((J @ J.t()).cpu().numpy())
        if eig[0] <= 0:
            return float("nan")
        return float(-(eig[-1] / eig[0]))
