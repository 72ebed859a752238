"""``nwot`` / NASWOT (Mellor, Turner, Storkey, Crowley, "Neural Architecture Search without
Training", ICML 2021)."""

import numpy as np
import torch
from torch import nn

from harness.api import Proxy


class Naswot(Proxy):
    """log|det K_H| where K_H[i, j] counts the ReLU units on which samples i and j agree
    (both active or both inactive), summed over every ReLU of the network, for one forward
    of the minibatch (shared with jacov's forward: the ReLU inputs are the same)."""

    #: no path: the ReLUs after the cell see the same input for every sample
    undefined_on_disconnected = True
    shared_pass = "jacobian"

    def _observe(self, ctx):
        b = ctx.inputs.shape[0]
        K = torch.zeros((b, b), dtype=torch.float64, device=ctx.device)

        def hook(_m, inp, _out):
            # agreements = both active + both inactive = n - s_i - s_j + 2 (c c^T)_ij with
            # s = active counts; every entry is an integer below 2^24, exact in float32
            with torch.no_grad():
                c = (inp[0].detach().reshape(b, -1) > 0).float()
                s = c.sum(1, dtype=torch.float64)
                cc = (c @ c.t()).double()
                K.add_(c.shape[1] - s[:, None] - s[None, :] + 2 * cc)

        hooks = [m.register_forward_hook(hook) for m in ctx.model.modules()
                 if isinstance(m, nn.ReLU)]
        return K, hooks

    def _collect(self, ctx, observed, outcome) -> float:
        K, hooks = observed
        for h in hooks:
            h.remove()
        sign, logdet = np.linalg.slogdet(K.cpu().numpy())
        return float(logdet) if sign > 0 else float("nan")
