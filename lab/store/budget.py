"""A time budget instead of a number of epochs: "train for 60 s" [L].

`resolve_budget(cfg, seconds, root)` returns the config with the epochs that fit the budget on this
machine, so that the run stored is that of the realised config (its id names what was trained, and
the same config with `--epochs` finds it). The throughput is measured once per machine and config by
a short calibration (a few training steps of a throwaway model, not part of the run), and the
resolution is kept under <runs>/_budgets/, so asking again with the same budget finds the stored run
instead of training a near-copy. On a faster device the same budget buys more epochs.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from lab.core.config import TrainConfig
from lab.core.data import load_dataset
from lab.store.provenance import cpu_model

MIN_BUDGET_S, MAX_BUDGET_S = 1.0, 24 * 3600.0
CALIBRATION_STEPS = 12  # timed after CALIBRATION_SKIP steps: the first steps allocate and warm caches
CALIBRATION_SKIP = 3
CALIBRATION_SECONDS = 2.0  # the second, longer sample's length
MAX_CALIBRATION_STEPS = 2000
FOLDER = "_budgets"  # <runs>/_budgets/<key>.json


def machine_key(device: torch.device) -> str:
    """What a throughput depends on besides the config: the CPU model, its cores and the device."""
    cpu = cpu_model()
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    return f"{cpu} | {os.cpu_count()} cores | {gpu}"  # not this process's threads: the worker's differ


def _key(cfg: TrainConfig, seconds: float, machine: str) -> str:
    base = {k: v for k, v in cfg.key().items() if k not in ("epochs", "snapshots", "seed")}  # speed, not seed
    doc = json.dumps({"config": base, "budget": seconds, "machine": machine}, sort_keys=True, default=str)
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


def check_budget(seconds: float) -> float:
    seconds = float(seconds)
    if not MIN_BUDGET_S <= seconds <= MAX_BUDGET_S:
        raise ValueError(
            f"A time budget must be between {MIN_BUDGET_S:g} s and {MAX_BUDGET_S:g} s; got {seconds:g}."
        )
    return seconds


def _timed_rate(cfg: TrainConfig, steps_per_epoch: int, timed: int) -> float:
    """Steps per second over `timed` training steps of a throwaway model, after CALIBRATION_SKIP."""
    from lab.core.train import train

    total = CALIBRATION_SKIP + timed
    marks: dict[int, float] = {}

    def mark(p) -> None:
        marks.setdefault(p.step, time.perf_counter())

    probe = TrainConfig(**{**cfg.to_dict(), "epochs": total / steps_per_epoch, "snapshots": 0})
    train(probe, progress=mark)
    steps = sorted(s for s in marks if s >= CALIBRATION_SKIP)
    first, last = steps[0], steps[-1]
    if last <= first:  # an accelerator reads the loss back rarely: time the whole calibration instead
        return total / max(1e-6, marks[steps[-1]] - min(marks.values()))
    return (last - first) / (marks[last] - marks[first])


def calibrate(cfg: TrainConfig) -> float:
    """Training steps per second of cfg on this machine, nothing stored: CALIBRATION_STEPS steps of a
    throwaway model, then, when those took under CALIBRATION_SECONDS, as many steps as fill that time
    (12 steps of a small batch last a fifth of a second, too short a sample of a run's speed)."""
    from lab.core.train import plan_steps

    n = len(load_dataset(cfg.dataset, cfg.subset, cfg.seed).train_labels)
    per_epoch = plan_steps(cfg, n).steps_per_epoch
    rate = _timed_rate(cfg, per_epoch, CALIBRATION_STEPS)
    longer = min(int(rate * CALIBRATION_SECONDS), MAX_CALIBRATION_STEPS)
    if longer >= 2 * CALIBRATION_STEPS:
        rate = _timed_rate(cfg, per_epoch, longer)
    return rate


@dataclass(frozen=True)
class BudgetJob:
    """What the worker's "budget" job names in place of a run (it works on settings)."""

    id: str = "budget"


def _path(cfg: TrainConfig, seconds: float, root: str | Path) -> Path:
    from lab.core.device import pick_device

    return Path(root) / FOLDER / f"{_key(cfg, seconds, machine_key(pick_device(cfg.device)))}.json"


def stored_budget(cfg: TrainConfig, seconds: float, root: str | Path) -> TrainConfig | None:
    """cfg with the epochs a budget resolved to on this machine, when it was measured; else None."""
    try:
        epochs = float(json.loads(_path(cfg, check_budget(seconds), root).read_text())["epochs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return TrainConfig(**{**cfg.to_dict(), "epochs": epochs})


def resolve_budget(cfg: TrainConfig, seconds: float, root: str | Path, log=None) -> TrainConfig:
    """cfg with the epochs that train within `seconds` here (stored, or measured now and stored)."""
    from lab.core.device import pick_device
    from lab.core.train import plan_steps
    from lab.store.atomic import save_json_atomically

    seconds = check_budget(seconds)
    if (found := stored_budget(cfg, seconds, root)) is not None:
        return found
    machine = machine_key(pick_device(cfg.device))
    if log is not None:
        log(f"Measuring this machine's speed for a {seconds:g}-s budget...")
    rate = calibrate(cfg)
    n = len(load_dataset(cfg.dataset, cfg.subset, cfg.seed).train_labels)
    steps = max(1, int(seconds * rate))
    epochs = round(steps / plan_steps(cfg, n).steps_per_epoch, 6)
    save_json_atomically(_path(cfg, seconds, root), {"budget_s": seconds, "steps": steps, "epochs": epochs,
                         "steps_per_s": rate, "machine": machine, "config": cfg.to_dict(), "measured_at": time.time()})  # fmt: skip
    return TrainConfig(**{**cfg.to_dict(), "epochs": epochs})
