"""``ntk``: condition number of the neural tangent kernel (Chen, Gong, Wang, "Neural
Architecture Search on ImageNet in Four GPU Hours: A Theoretically Inspired Perspective"
(TE-NAS), ICLR 2021)."""

import numpy as np
import torch
from torch.func import functional_call, jacrev, vmap

from harness.api import Proxy


class NtkConditionNumber(Proxy):
    """-kappa, kappa = lambda_max / lambda_min of the NTK Theta = J J^T, J[i] the gradient
    of sample i's summed logits w.r.t. all parameters, with the network in eval mode as in
    TE-NAS (``train_mode=False``), so per-sample gradients are independent and computed in
    one vectorised pass. Lower kappa trains better, so the score is -kappa."""

    def _score(self, ctx) -> float:
        model = ctx.model.eval()
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v for k, v in model.named_buffers()}

        def out_sum(p, x):
            return functional_call(model, (p, buffers), (x.unsqueeze(0),)).sum()

        jac = vmap(jacrev(out_sum), in_dims=(None, 0))(params, ctx.inputs)
        b = ctx.inputs.shape[0]
        J = torch.cat([g.reshape(b, -1) for g in jac.values()], dim=1).double()
        eig = np.linalg.eigvalsh((J @ J.t()).cpu().numpy())
        if eig[0] <= 0:
            return float("nan")
        return float(-(eig[-1] / eig[0]))
