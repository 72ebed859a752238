"""DARTS, second order (Liu, Simonyan & Yang, ICLR 2019), as run on NAS-Bench-201 by the
reference code (D-X-Y/AutoDL-Projects ``exps/NAS-Bench-201-algos/DARTS-V2.py``).

Per step, first alpha: the validation loss is taken at the weights after one virtual SGD
step w' = w - lr * (momentum * buffer + dL_train/dw + wd * w); its alpha-gradient is
corrected by the implicit term -lr * (d2 L_train / dalpha dw) . dL_val/dw', computed by
central finite differences with R = 0.01 / |dL_val/dw'|. Then one SGD step of the
weights. 50 epochs; argmax derivation as DARTS-V1.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from adapters.nb201_supernet import Weighted
from methods.oneshot._common import accuracy
from methods.oneshot.darts_v1 import DartsV1


class DartsV2(DartsV1):
    """DARTS second order: unrolled validation loss with a finite-difference Hessian."""

    version = "2"  # 2: the weights' cosine schedule steps per epoch, as the reference

    def _step(self, ctx, train, valid) -> dict:
        import torch.nn.functional as F

        alpha, opt = ctx.state["alpha"], ctx.state["arch_optimizer"]
        net = ctx.supernet
        params = dict(net.named_parameters())
        fixed = Weighted(alpha.detach().softmax(-1))
        loss, _ = ctx.loss(fixed, train)
        grads = torch.autograd.grad(loss, list(params.values()))
        lr, wd, mom = ctx.lr, ctx.opt["weight_decay"], ctx.opt["momentum"]
        unrolled = {}
        with torch.no_grad():
            for (name, p), g in zip(params.items(), grads, strict=True):
                buf = ctx.w_optimizer.state.get(p, {}).get("momentum_buffer")
                step = g + wd * p + (mom * buf if buf is not None else 0)
                unrolled[name] = (p - lr * step).requires_grad_(True)
        buffers = {k: v.clone() for k, v in net.named_buffers()}
        logits = functional_call(net, {**unrolled, **buffers},
                                 (valid[0], Weighted(alpha.softmax(-1))))
        vloss = F.cross_entropy(logits, valid[1])
        dalpha, *dw = torch.autograd.grad(vloss, [alpha, *unrolled.values()])
        r = 1e-2 / torch.cat([v.reshape(-1) for v in dw]).norm()

        def alpha_grad(sign: float) -> torch.Tensor:
            with torch.no_grad():
                for p, v in zip(params.values(), dw, strict=True):
                    p.add_(v, alpha=sign * float(r))
            lo, _ = ctx.loss(Weighted(alpha.softmax(-1)), train)
            return torch.autograd.grad(lo, [alpha])[0]

        g_plus = alpha_grad(1.0)
        g_minus = alpha_grad(-2.0)
        with torch.no_grad():  # back to w
            for p, v in zip(params.values(), dw, strict=True):
                p.add_(v, alpha=float(r))
        opt.zero_grad(set_to_none=True)
        alpha.grad = dalpha - lr * (g_plus - g_minus) / (2 * r)
        opt.step()
        stats = ctx.train_weights(Weighted(alpha.detach().softmax(-1)), train)
        return {**stats, "valid_loss": vloss.detach(), "valid_acc": accuracy(logits, valid[1])}
