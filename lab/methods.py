"""Training methods by name: how a batch of views becomes a loss.

Open registry: later objectives (VICReg, SAG-VICReg, SePP, ...) add themselves with
`register(Method(...))`. The loss functions themselves live in `lab.losses`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from lab import losses
from lab.models import Encoder


@dataclass(frozen=True)
class Method:
    name: str
    summary: str  # one line for the CLI and the app
    tag: str  # [P] paper, [D] derived, [L] lab design — shown in the app
    uses_labels: bool
    n_views: int  # augmented views per image per step
    uses_temperature: bool
    uses_alpha: bool
    # (model, views [n_views x [B, C, H, W]], labels [B], config) -> scalar loss
    loss: Callable[[Encoder, list[torch.Tensor], torch.Tensor, object], torch.Tensor]


METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ValueError(f"Unknown method '{name}'. Choose one of: {', '.join(METHODS)}.")
    return METHODS[name]


def _two_view_z(model: Encoder, views: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    # One forward pass over both views keeps BatchNorm statistics shared, as in SimCLR.
    _, z = model(torch.cat(views))
    return z.chunk(2)


def _supervised(model, views, labels, cfg):
    h = model.features(views[0])
    return losses.cross_entropy(model.classifier(h), labels)


def _simclr(model, views, labels, cfg):
    return losses.nt_xent(*_two_view_z(model, views), cfg.temperature)


def _supcon(model, views, labels, cfg):
    z1, z2 = _two_view_z(model, views)
    return losses.supcon(torch.stack([z1, z2], dim=1), labels, cfg.temperature)


def _joint(model, views, labels, cfg):
    z1, z2 = _two_view_z(model, views)
    return losses.joint_contrastive(z1, z2, labels, cfg.temperature, cfg.alpha)


register(Method("supervised", "cross-entropy on labels (linear head on h, label smoothing 0.1)", "[P]",
                True, 1, False, False, _supervised))  # fmt: skip
register(Method("simclr", "SimCLR, NT-Xent between two augmented views (no labels)", "[P]",
                False, 2, True, False, _simclr))  # fmt: skip
register(Method("supcon", "supervised contrastive (Khosla et al., L_out): positives share the label", "[P]",
                True, 2, True, False, _supcon))  # fmt: skip
register(Method("joint", "alpha * SupCon + (1 - alpha) * SimCLR (Xue et al. 2023)", "[P, weighting L]",
                True, 2, True, True, _joint))  # fmt: skip
