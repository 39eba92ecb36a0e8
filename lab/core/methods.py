"""Training methods by name: how a batch of views becomes a loss, and which hyper-parameters that takes.

A `Method` owns its parameters (`Param`: name, default, range, help, [P]/[L] tag). The config
carries their values, the CLI makes a flag of each (`--temperature`), and the Train page a widget,
so adding a method with new parameters touches its own module only (docs/extending.md). The lab's
own methods are here; papers add theirs through their entry in lab.papers (`Paper.methods`).
The loss functions themselves live in lab.core.losses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from lab.core import losses
from lab.core.registry import by_name


@dataclass(frozen=True)
class Param:
    """One hyper-parameter of a method. Numbers are checked against [low, high] (low excluded when
    low_open); a choice against `choices`."""

    name: str  # the config key; the CLI flag is --name with "-" for "_"
    default: float | int | str
    help: str
    tag: str  # [P] from the paper, [L] the lab's choice
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    step: float | None = None  # the Train page's slider step (None: a number input)
    ui_range: tuple[float, float] | None = None  # the slider's range when wider than [low, high] allows
    choices: tuple[str, ...] = ()
    label: str = ""  # the Train page's label; default: the name
    # False: at its default the parameter stays out of the run's identity (TrainConfig.key), so that
    # runs stored before a method gained it keep their ids; any other value enters the key.
    keyed_at_default: bool = True
    names_run: bool = False  # the value is a stored run's id ("" = none); the Train page lists the runs
    shown_when: tuple[str, str] | None = None  # (parameter, value): the Train page's widget only then

    def check(self, value):
        """The value converted to the parameter's type; ValueError naming the parameter when it is
        out of range or not one of the choices."""
        if self.choices:
            if value not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}.")
            return value
        if self.names_run:
            if not isinstance(value, str) or not re.fullmatch(r"([0-9a-f]{12})?", value):
                raise ValueError(f"{self.name} must be a run id, 12 hex digits as `python -m lab runs` lists "
                                 f"them; got {value!r}.")  # fmt: skip
            return value
        kind = type(self.default)
        try:
            value = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a number; got {value!r}.") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{self.name} must be a finite number; got {value}.")
        lo_ok = self.low is None or (value > self.low if self.low_open else value >= self.low)
        hi_ok = self.high is None or value <= self.high
        if not (lo_ok and hi_ok):
            if self.high is None:
                raise ValueError(f"{self.name} must be {'above' if self.low_open else 'at least'} {self.low:g}; got {value}.")  # fmt: skip
            if self.low is None:
                raise ValueError(f"{self.name} must be at most {self.high:g}; got {value}.")
            left = "(" if self.low_open else "["
            raise ValueError(f"{self.name} must be in {left}{self.low:g}, {self.high:g}]; got {value}.")
        return value


@dataclass
class Step:
    """What a method's loss sees at one training step."""

    model: nn.Module  # lab.core.models.Encoder
    views: list[torch.Tensor]  # n_views x [B, C, H, W] float augmented views
    labels: torch.Tensor  # [B] class ids (only methods with uses_labels may train on them)
    index: torch.Tensor  # [B] rows of the training set
    step: int  # 0-based
    total_steps: int
    params: dict  # the method's parameter values
    state: object = None  # what Method.setup returned
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None  # one more view of uint8 images
    images: torch.Tensor | None = None  # uint8 [N, C, H, W], the training set on the device
    log: dict = field(default_factory=dict)  # numbers to record per step (averaged over the run)


@dataclass(frozen=True)
class Method:
    name: str
    summary: str  # one line for the CLI and the app
    tag: str  # [P] paper, [D] derived, [L] lab design — shown in the app
    uses_labels: bool
    n_views: int  # augmented views per image per step
    loss: Callable[[Step], torch.Tensor]
    params: tuple[Param, ...] = ()
    # (backbone feature size, embedding size) -> the head on h whose output z the loss sees;
    # None: SimCLR's MLP head (lab.core.models.projection_head)
    projector: Callable[[int, int], nn.Module] | None = None
    # (config, dataset, device) -> state handed to every Step (e.g. mined partners); None: no state
    setup: Callable[[object, object, torch.device], object] | None = None
    # state after training -> extra numbers and lists the run records in metrics.json ("method")
    record: Callable[[object], dict] | None = None
    # the whole config -> raises ValueError naming what is wrong (checks across fields, e.g. a neighbour
    # count larger than the batch), so every entry point refuses it before training
    check: Callable[[object], None] | None = None

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


# T = 0.2: issue 23's recipe search (docs/performance.md); the paper protocols pin 0.5 (PROTOCOL_RECIPE)
TEMPERATURE = Param("temperature", 0.2, "Softmax temperature of the contrastive loss.", "[P, default L]", low=0.0,
                    low_open=True, step=0.05, ui_range=(0.05, 1.0), label="Temperature T")  # fmt: skip
ALPHA = Param("alpha", 0.5, "Weight of SupCon in the joint loss: 0 = SimCLR, 1 = SupCon.", "[L]", low=0.0,
              high=1.0, step=0.05, label="Alpha (weight of SupCon)")  # fmt: skip


def two_view_z(model, views: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Projector outputs of two views, from one forward pass over both (BatchNorm statistics shared,
    as in SimCLR). Returns (z1 [B, p], z2 [B, p])."""
    _, z = model(torch.cat(views))
    return z.chunk(2)


def _supervised(s: Step) -> torch.Tensor:
    return losses.cross_entropy(s.model.classifier(s.model.features(s.views[0])), s.labels)


def _simclr(s: Step) -> torch.Tensor:
    return losses.nt_xent(*two_view_z(s.model, s.views), s.params["temperature"])


def _supcon(s: Step) -> torch.Tensor:
    z1, z2 = two_view_z(s.model, s.views)
    return losses.supcon(torch.stack([z1, z2], dim=1), s.labels, s.params["temperature"])


def _joint(s: Step) -> torch.Tensor:
    z1, z2 = two_view_z(s.model, s.views)
    return losses.joint_contrastive(z1, z2, s.labels, s.params["temperature"], s.params["alpha"])


CORE_METHODS = (
    Method("supervised", "cross-entropy on labels (linear head on h, label smoothing 0.1)", "[P]", True, 1,
           _supervised),
    Method("simclr", "SimCLR, NT-Xent between two augmented views (no labels)", "[P]", False, 2, _simclr,
           (TEMPERATURE,)),
    Method("supcon", "supervised contrastive (Khosla et al., L_out): positives share the label", "[P]", True, 2,
           _supcon, (TEMPERATURE,)),
    Method("joint", "alpha * SupCon + (1 - alpha) * SimCLR (Xue et al. 2023)", "[P, weighting L]", True, 2,
           _joint, (TEMPERATURE, ALPHA)),
)  # fmt: skip


def all_methods() -> dict[str, Method]:
    """Every method by name: the lab's own, then each paper's (lab.papers)."""
    from lab.papers import paper_methods  # the paper registry; imported late, it imports this module

    return by_name(CORE_METHODS, paper_methods(), "Method")


def get_method(name: str) -> Method:
    methods = all_methods()
    if name not in methods:
        raise ValueError(f"Unknown method '{name}'. Choose one of: {', '.join(methods)}.")
    return methods[name]


def all_params() -> dict[str, Param]:
    """Every parameter any method declares, by name (one declaration per name: methods share them)."""
    out: dict[str, Param] = {}
    for m in all_methods().values():
        for p in m.params:
            if p.name in out and out[p.name] != p:
                raise ValueError(
                    f"Two methods declare the parameter '{p.name}' differently; share one Param."
                )
            out[p.name] = p
    return out
