"""A run's config: one frozen dataclass whose checks every entry point (CLI, app, tests) shares,
and the default-epochs policy.

The fields below are what every run has; a method's own hyper-parameters (temperature, alpha, ...)
are declared by the method (lab.core.methods.Param) and carried in `params`. They are given and
stored flat, like the fields: `TrainConfig(method="joint", alpha=0.3)`, and config.json holds
"alpha": 0.3 beside "method", so run ids and stored runs read the same whatever method owns them.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

from lab.core.data import all_datasets, check_dataset_name, get_dataset_spec, train_size
from lab.core.device import DEVICE_CHOICES
from lab.core.methods import all_params, get_method
from lab.core.models import ENCODERS
from lab.core.snapshots import MAX_SNAPSHOTS

# The default-epochs policy [L], chosen so that a default Fashion-MNIST run trains in about a minute on
# 2 cores (docs/performance.md, "A default minute"): at the default recipe below a 60-s budget buys
# 1.3 epochs of a two-view method and 2.5 of supervised (one view per image). The small
# `digits` set trains 5 epochs, a few seconds, so that its first run is more than a few steps.
DEFAULT_EPOCHS = {"supervised": 2.5}
TWO_VIEW_DEFAULT_EPOCHS = 1.3
SMALL_DATASET_EPOCHS = {"digits": 5.0}

# The recipe the paper protocols were run and reported with (lab.papers.*.reproduce and bench): the lab's
# defaults before issue 23's recipe search moved them (docs/performance.md). The protocols pin it through
# protocol_config, so their stored runs and the run ids in docs/reproduce/ stay theirs [L].
PROTOCOL_RECIPE = {"width": 16, "aug_strength": 0.6, "batch_size": 256, "lr": 4e-3, "temperature": 0.5}
PROTOCOL_EPOCHS = {"supervised": 3.0}
PROTOCOL_TWO_VIEW_EPOCHS = 1.6


# The Train page's default length [L]: a time budget, which is what an interactive user means ("train for
# a minute") and which buys more epochs on a faster machine; the small sets' default epochs take seconds.
DEFAULT_BUDGET_S = 60.0


def default_budget(dataset: str) -> float | None:
    """Seconds of training a run of this dataset asks for by default; None: its default epochs."""
    return None if dataset in SMALL_DATASET_EPOCHS else DEFAULT_BUDGET_S


def dataset_params() -> dict:
    """Every training option any dataset declares, by name (lab.core.data.DatasetSpec.params)."""
    return {p.name: p for spec in all_datasets().values() for p in spec.params}


def default_epochs(method: str, dataset: str = "fashion-mnist", protocol: bool = False) -> float:
    """Epochs of a run that does not say how many (the one place this policy lives); `protocol`: those of
    the paper protocols' recipe (PROTOCOL_RECIPE)."""
    if dataset in SMALL_DATASET_EPOCHS:
        return SMALL_DATASET_EPOCHS[dataset]
    if protocol:
        return PROTOCOL_EPOCHS.get(method, PROTOCOL_TWO_VIEW_EPOCHS)
    return DEFAULT_EPOCHS.get(method, TWO_VIEW_DEFAULT_EPOCHS)


@dataclass(frozen=True, init=False)
class TrainConfig:
    """Everything that defines a run. Validation lives here, so CLI, app and tests get the same errors.

    TrainConfig(dataset=..., method=..., <field>=..., <method parameter>=...): any field left out
    takes its default below, any method parameter its method's default. A parameter of another
    method is checked and then dropped (it does not change this run), an unknown name is an error.
    """

    dataset: str = "fashion-mnist"
    subset: int | None = None  # class-balanced training subset size; None = all
    method: str = "simclr"
    encoder: str = "cnn"
    # The recipe [L]: the best mean over three seeds of issue 23's search within a 60-s budget (docs/performance.md)
    width: int = 32
    embedding_size: int = 128
    aug_strength: float = 0.8
    batch_size: int = 64
    # Fractional epochs allowed: the schedule runs over round(epochs * steps/epoch). None = the
    # default-epochs policy above.
    epochs: float | None = None
    lr: float = 8e-3
    weight_decay: float = 5e-4
    seed: int = 0
    snapshots: int = 0  # times to record the probe set's features during training (lab.core.snapshots)
    device: str = "auto"  # not part of the run's identity
    params: tuple[tuple[str, object], ...] = ()  # the method's parameters, (name, value) sorted by name

    def __init__(self, **values):
        given = dict(values.pop("params", None) or {})
        for f in dataclasses.fields(self):
            if f.name != "params":
                object.__setattr__(self, f.name, values.pop(f.name, f.default))
        given.update(values)  # what is left are method or dataset parameters (or typos)
        known, data_params = all_params(), dataset_params()
        unknown = sorted(set(given) - set(known) - set(data_params))
        if unknown:
            fields = [f.name for f in dataclasses.fields(self) if f.name != "params"]
            names = sorted(fields + list(known) + list(data_params))
            raise ValueError(f"Unknown config field(s) {unknown}. Known: {', '.join(names)}.")
        checked = {name: {**data_params, **known}[name].check(v) for name, v in given.items()}  # all checked
        check_dataset_name(self.dataset)
        declared = get_method(self.method).params + get_dataset_spec(self.dataset).params
        strays = sorted(n for n in given if n in data_params and n not in {p.name for p in declared})
        if strays:  # a dataset's option asked of a dataset without it: say so rather than drop it
            owners = {
                n: [d for d, spec in all_datasets().items() if n in {p.name for p in spec.params}]
                for n in strays
            }
            raise ValueError("; ".join(f"{n} is an option of {', '.join(owners[n])}, not of {self.dataset}" for n in strays)
                             + ". Leave it out, or pick that dataset.")  # fmt: skip
        own = {p.name: checked.get(p.name, p.default) for p in declared}
        object.__setattr__(self, "params", tuple(sorted(own.items())))
        self.__post_init__()

    def __post_init__(self):
        check_dataset_name(self.dataset)
        if self.subset is not None and self.subset >= (train_size(self.dataset) or float("inf")):
            object.__setattr__(self, "subset", None)  # the whole set, under the whole set's run id
        if self.epochs is None:
            object.__setattr__(self, "epochs", default_epochs(self.method, self.dataset))
        if self.encoder not in ENCODERS:
            raise ValueError(f"Unknown encoder '{self.encoder}'. Choose one of: {', '.join(ENCODERS)}.")
        checks = [
            (0.0 <= self.aug_strength <= 1.0, f"aug_strength must be in [0, 1]; got {self.aug_strength}."),
            (2 <= self.embedding_size <= 2048, f"embedding_size must be 2 to 2048; got {self.embedding_size}."),
            (self.batch_size >= 2, f"batch_size must be at least 2; got {self.batch_size}."),
            (self.epochs > 0 and math.isfinite(self.epochs), f"epochs must be above 0; got {self.epochs}."),
            (self.lr > 0 and math.isfinite(self.lr), f"lr must be a positive number; got {self.lr}."),
            (self.weight_decay >= 0, f"weight_decay must be 0 or more; got {self.weight_decay}."),
            (1 <= self.width <= 256, f"width must be 1 to 256; got {self.width}."),
            (self.subset is None or self.subset >= 10, f"subset must be at least 10 images; got {self.subset}."),
            (0 <= self.snapshots <= MAX_SNAPSHOTS, f"snapshots must be 0 to {MAX_SNAPSHOTS}; got {self.snapshots}."),
            (self.device in DEVICE_CHOICES, f"device must be one of {', '.join(DEVICE_CHOICES)}; got {self.device}."),
        ]  # fmt: skip
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        method = get_method(self.method)
        if method.check is not None:
            method.check(self)

    def param(self, name: str):
        """The value of one of the method's parameters."""
        return dict(self.params)[name]

    def replace(self, **changes) -> TrainConfig:
        """A copy with some fields or parameters changed (checked like a new config)."""
        return TrainConfig(**{**self.to_dict(), **changes})

    def to_dict(self) -> dict:
        """The config as flat JSON values: the fields, then the method's parameters beside them."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "params"}
        return {**d, **dict(self.params)}

    def key(self) -> dict:
        """The normalised config that names the run: the device is left out (the same config on
        another device is the same run), and only the method's own parameters are in it, less those
        declared keyed_at_default=False that are at their default (lab.core.methods.Param)."""
        d = self.to_dict()
        d.pop("device")
        if not d["snapshots"]:  # a run without snapshots keeps the id it had before snapshots existed
            d.pop("snapshots")
        declared = get_method(self.method).params + get_dataset_spec(self.dataset).params
        for p in declared:  # a parameter added later: at its default, the runs stored before keep their ids
            if not p.keyed_at_default and d.get(p.name) == p.default:
                d.pop(p.name)
        d["epochs"] = float(d["epochs"])
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        return cls(**d)


def default_config(dataset: str = "fashion-mnist", method: str = "simclr") -> TrainConfig:
    """The lab's default run of a dataset and method (the app's one-click first run is SimCLR's)."""
    return TrainConfig(dataset=dataset, method=method)


def protocol_config(**values) -> TrainConfig:
    """A paper protocol's run: PROTOCOL_RECIPE, then `values` (which win); epochs left out or None take
    the protocol's epochs policy. Its run id is the one the protocol had before the defaults moved."""
    recipe = {**PROTOCOL_RECIPE, **values}
    if recipe.get("epochs") is None:
        recipe["epochs"] = default_epochs(
            recipe.get("method", "simclr"), recipe.get("dataset", "fashion-mnist"), True
        )
    return TrainConfig(**recipe)
