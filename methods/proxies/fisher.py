"""``fisher`` (Theis et al., "Faster gaze prediction with dense networks and Fisher pruning",
2018; Turner et al., BlockSwap, ICLR 2020; as a NAS proxy: Abdelfattah et al., ICLR 2021)."""

import torch

from harness.api import Proxy


class Fisher(Proxy):
    """Sum over the output channels c of every conv and linear layer (the classifier
    included, as the NAS references hook it) of Theis et al.'s pruning signal
    Delta_c = 1/(2N) sum_n (sum_hw a_nc * dL/da_nc)^2, a = the layer's output activation,
    L = the minibatch's mean cross-entropy.

    The reference implementations (zero-cost-nas, NASLib) broadcast each channel's Delta_c
    onto the layer's weight tensor before summing, which multiplies it by the layer's fan-in
    (in_channels x kernel area); that is an artefact of their per-weight bookkeeping, not the
    paper's definition, so our values differ from the published ones by those weights.
    """

    version = "2"  # 1: conv layers only (no classifier)

    shared_pass = "backward"

    def _observe(self, ctx):
        acts: list[torch.Tensor] = []

        def keep(_m, _inp, out):
            out.retain_grad()
            acts.append(out)

        hooks = [m.register_forward_hook(keep) for m in ctx.model.modules()
                 if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        return acts, hooks

    def _collect(self, ctx, observed, outcome) -> float:
        acts, hooks = observed
        for h in hooks:
            h.remove()
        return fisher_of(acts)


def fisher_of(acts: list[torch.Tensor]) -> float:
    """Sum of Delta_c over the channels of activations whose ``.grad`` is set."""
    total = 0.0
    for a in acts:
        if a.grad is None:
            continue
        prod = a.detach() * a.grad
        per_channel = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
        total += float((0.5 * per_channel.pow(2).mean(0)).sum())
    return total
