"""What a sweep is: a base config and axes (field -> values), the grid of their configs, and what
it will cost before anything trains.

A sweep is stored under <runs>/_sweeps/<id>.json (its spec and when it was asked for), so that an
app restarted mid-sweep can resume it: the runs it already stored are found, the rest trained.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lab.core.config import TrainConfig, dataset_params
from lab.core.data import get_dataset_spec, train_size
from lab.core.methods import all_params, get_method
from lab.core.train import plan_steps
from lab.store.atomic import save_json_atomically
from lab.store.derived import load_json
from lab.store.runs import RunStore, run_id

# the axes the app offers; the CLI's --over takes any config field or parameter
AXES = {"method": "method", "embedding_size": "embedding size p", "aug_strength": "augmentation strength s",
        "q": "q (view 2 gets another digit)", "seed": "seed"}  # fmt: skip
# training images/s assumed on a CPU, by encoder width, when no stored run of the encoder says better
# [L, measured on 2 Xeon cores: SimCLR on cnn-16 at batch 256 about 2,000-2,600, on cnn-32 at batch 64 1,050-1,350]
DEFAULT_IMAGES_PER_S = {16: 2_000.0, 32: 1_200.0}
SCORE_SECONDS_PER_10K = (
    2.0  # embedding and scoring after training, per 10,000 evaluation images [L, measured]
)
LABEL_PROBE_SECONDS = 1.2  # one linear + kNN probe of a label set (lab.store.label_probes) [L, measured]
MAX_RUNS = 500  # a grid larger than this is a typo, not a sweep


@dataclass(frozen=True)
class Sweep:
    base: dict  # a TrainConfig as a dict (flat), the values every run shares
    axes: dict = field(default_factory=dict)  # field or parameter name -> list of values
    run_seconds: float | None = None  # a time budget per run instead of epochs (lab.store.budget)

    def __post_init__(self):
        if not self.axes:
            raise ValueError(
                "A sweep needs at least one axis with values, e.g. --over embedding_size=2,8,32."
            )
        known = {f for f in TrainConfig.__dataclass_fields__ if f not in ("params", "device")} | set(
            all_params()
        )
        known |= set(dataset_params())
        for name, values in self.axes.items():
            if name not in known:
                raise ValueError(
                    f"'{name}' is not something a sweep can vary. Choose from: {', '.join(sorted(known))}."
                )
            if not values:
                raise ValueError(f"The sweep's axis '{name}' has no values.")
        if self.run_seconds is not None and ("epochs" in self.axes or self.base.get("epochs") is not None):
            raise ValueError("A sweep with a time budget per run sets each run's epochs itself: drop epochs.")
        n = math.prod(len(v) for v in self.axes.values())
        if n > MAX_RUNS:
            raise ValueError(
                f"This grid has {n:,} runs; a sweep takes at most {MAX_RUNS}. Drop values from an axis."
            )

    @property
    def id(self) -> str:
        base = {k: v for k, v in self.base.items() if k != "device"}  # where it runs is not what it is
        extra = {} if self.run_seconds is None else {"run_seconds": self.run_seconds}
        doc = json.dumps({"base": base, "axes": self.axes, **extra}, sort_keys=True, default=str)
        return hashlib.sha256(doc.encode()).hexdigest()[:12]

    @property
    def varied(self) -> list[str]:
        """The axes with more than one value."""
        return [k for k, v in self.axes.items() if len(v) > 1]

    def configs(self) -> list[TrainConfig]:
        """Every config of the grid, checked: a bad value is refused here, before any training."""
        names = list(self.axes)
        return [TrainConfig(**{**self.base, **dict(zip(names, values, strict=True))})
                for values in itertools.product(*(self.axes[n] for n in names))]  # fmt: skip

    def to_dict(self) -> dict:
        extra = {} if self.run_seconds is None else {"run_seconds": self.run_seconds}
        return {"base": self.base, "axes": self.axes, **extra}


def realised_configs(sweep: Sweep, store: RunStore) -> list[TrainConfig | None]:
    """The configs of the grid as they train: with a time budget per run, each with the epochs its
    budget resolved to on this machine, or None while that is not measured yet."""
    from lab.store.budget import stored_budget

    if sweep.run_seconds is None:
        return sweep.configs()
    return [stored_budget(c, sweep.run_seconds, store.root) for c in sweep.configs()]


def images_per_s(store: RunStore, encoder: str, width: int) -> float:
    """Training speed on this machine: the median images/s of the stored runs with this encoder (the
    lab's default on a CPU when none is stored)."""
    speeds = [r.metrics.get("images_per_s") for r in store.list()
              if r.config.encoder == encoder and r.config.width == width and r.metrics.get("images_per_s")]  # fmt: skip
    if speeds:
        return float(np.median(speeds))
    return DEFAULT_IMAGES_PER_S.get(width, min(DEFAULT_IMAGES_PER_S.values()))


def estimate_seconds(cfg: TrainConfig, speed: float) -> float:
    """What one config costs: its training steps at `speed` images/s (two-view methods process two
    views of each image), plus embedding and scoring its evaluation images."""
    n = min(cfg.subset or train_size(cfg.dataset) or 60_000, train_size(cfg.dataset) or 60_000)
    plan = plan_steps(cfg, n)
    views = get_method(cfg.method).n_views
    train = plan.total_steps * plan.batch * views / (2 * speed)  # speed is measured on two-view runs
    sets = get_dataset_spec(cfg.dataset).label_sets  # more than one: each probed on h and z (the pixels
    probes = LABEL_PROBE_SECONDS * 2 * sets if sets > 1 else 0.0  # once for all runs on the same images)
    return train + SCORE_SECONDS_PER_10K * (n + 10_000) / 10_000 + probes


@dataclass
class Plan:
    configs: list[TrainConfig]
    stored: list[str]  # run ids already in the store
    seconds: float  # estimated for what is left
    left: list[TrainConfig] = field(default_factory=list)  # the configs still to train, in grid order


def plan(sweep: Sweep, store: RunStore) -> Plan:
    """What is left of a sweep and how long it will take here."""
    configs, realised = sweep.configs(), realised_configs(sweep, store)
    stored = [run_id(r) for r in realised if r is not None and store.path(r).is_dir()]
    left = [c for c, r in zip(configs, realised, strict=True) if r is None or run_id(r) not in stored]
    speed = images_per_s(store, configs[0].encoder, configs[0].width)
    if sweep.run_seconds is not None:  # the budget, a few seconds measuring the speed, then scoring
        seconds = sum(sweep.run_seconds + 5 + estimate_seconds(c, float("inf")) for c in left)
    else:
        seconds = sum(estimate_seconds(c, speed) for c in left)
    return Plan(configs, stored, seconds, left)


def check_budget(p: Plan, budget_minutes: float | None) -> None:
    """Refuse a sweep whose estimate exceeds the budget, saying the estimate (before any training)."""
    if budget_minutes is not None and p.seconds > 60 * budget_minutes:
        left = len(p.configs) - len(p.stored)
        raise ValueError(f"This sweep would take about {p.seconds / 60:.0f} minutes here ({left} runs to train), over "
                         f"its budget of {budget_minutes:g} minutes. Drop values from an axis, use fewer training "
                         "images or epochs, or raise the budget.")  # fmt: skip


def sweeps_folder(store: RunStore) -> Path:
    return store.root / "_sweeps"


def save_sweep(sweep: Sweep, store: RunStore, state: str = "asked") -> Path:
    path = sweeps_folder(store) / f"{sweep.id}.json"
    doc = load_json(path) or {"asked_at": time.time()}
    save_json_atomically(path, {**doc, **sweep.to_dict(), "state": state, "updated_at": time.time()})
    return path


def stored_sweeps(store: RunStore) -> list[tuple[Sweep, dict]]:
    """Every sweep asked for in this runs folder, newest first, with its record (state, times)."""
    folder = sweeps_folder(store)
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        doc = load_json(path)
        if isinstance(doc, dict) and "base" in doc and "axes" in doc:
            out.append((Sweep(doc["base"], doc["axes"], doc.get("run_seconds")), doc))
    return sorted(out, key=lambda s: -s[1].get("asked_at", 0))
