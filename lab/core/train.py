"""Config dataclass -> trained encoder. Progress goes to a callback; cancellation is checked
between steps; a non-finite loss stops the run with a clear error.

The whole training set sits on the training device as one uint8 tensor; each step indexes a
batch and augments it there (lab.core.augment), so no per-image Python runs in the loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from lab.core.augment import AugmentParams, augment, make_generator
from lab.core.config import TrainConfig
from lab.core.data import Dataset, load_dataset
from lab.core.device import loss_read_every, pick_device
from lab.core.methods import Step, get_method
from lab.core.models import Encoder
from lab.core.snapshots import Snapshots, Snapshotter


class TrainingCancelled(Exception):
    """The user cancelled between two steps; nothing was stored."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class Progress:
    step: int
    total_steps: int
    epoch: float
    loss: float
    images_per_s: float
    elapsed_s: float
    eta_s: float


@dataclass
class TrainResult:
    model: Encoder
    dataset: Dataset
    losses: list[float]
    train_seconds: float
    images_per_s: float
    device: str
    steps: int
    method_metrics: dict = field(default_factory=dict)  # the method's own numbers (Method.record, Step.log)
    snapshots: Snapshots | None = None  # the probe set's features during training (cfg.snapshots)


def build_model(cfg: TrainConfig, ds: Dataset) -> Encoder:
    mean = ds.train_images[:10_000].float().mean().item() / 255
    std = ds.train_images[:10_000].float().std().item() / 255
    projector = get_method(cfg.method).projector
    return Encoder(
        cfg.encoder, ds.shape[0], cfg.width, cfg.embedding_size, ds.num_classes, mean, std, projector
    )


def warm_up_training() -> float:
    """Build a throwaway optimiser: a process's first torch optimiser imports torch._dynamo (about
    1.7 s on 2 cores, measured with cProfile), which the app's worker pays at start-up instead of
    after a user clicks Start. Returns the seconds it took."""
    start = time.perf_counter()
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    return time.perf_counter() - start


def cosine_lr(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * t))


@dataclass(frozen=True)
class Plan:
    """How many steps of how many images a config trains for on a training set of n images."""

    batch: int
    steps_per_epoch: int
    total_steps: int


def plan_steps(cfg: TrainConfig, n_train: int) -> Plan:
    """The schedule `train` runs: batches of min(batch_size, n), round(epochs * steps per epoch) steps."""
    batch = min(cfg.batch_size, n_train)
    per_epoch = max(1, n_train // batch)
    return Plan(batch, per_epoch, max(1, round(cfg.epochs * per_epoch)))


def train(
    cfg: TrainConfig,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_snapshot: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
) -> TrainResult:
    """Train an encoder as `cfg` says. `progress` is called each time the loss is read back: after
    every step on the CPU, every `loss_read_every(device)` steps on an accelerator, and after the last
    step (cheaply; throttle in the UI). `should_stop()` is polled between steps and, when true,
    raises TrainingCancelled. `on_snapshot(step, h, labels)` gets each snapshot as it is taken
    (lab.core.snapshots.Snapshotter; cfg.snapshots > 0), before training goes on."""
    device = pick_device(cfg.device)
    method = get_method(cfg.method)
    torch.manual_seed(cfg.seed)
    ds = load_dataset(cfg.dataset, cfg.subset, cfg.seed)
    images = ds.train_images.to(device)  # uint8 [N, C, H, W], the whole split on the device
    labels = ds.train_labels.to(device)
    plan = plan_steps(cfg, len(labels))
    model = build_model(cfg, ds).to(device)
    model = model.to(memory_format=torch.channels_last)  # measured: 1.35x faster on 2 CPU cores too
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    aug = AugmentParams.from_strength(cfg.aug_strength)
    gen = make_generator(cfg.seed, device)
    state = method.setup(cfg, ds, device) if method.setup is not None else None
    make = ds.make_views(device, ds.train_index) if ds.make_views is not None else None
    snaps = (
        Snapshotter(cfg.snapshots, ds, plan.total_steps, device, cfg.seed, on_snapshot)
        if cfg.snapshots
        else None
    )

    def view(batch_images: torch.Tensor) -> torch.Tensor:
        return augment(batch_images, aug, gen).contiguous(memory_format=torch.channels_last)

    def views(idx: torch.Tensor) -> list[torch.Tensor]:
        if make is not None:  # a dataset that composes its views (lab.core.dataset.Dataset.make_views)
            return make(idx, method.n_views, view, gen, dict(cfg.params))
        return [view(images[idx]) for _ in range(method.n_views)]

    loop = _Loop(cfg, plan, device, progress)
    model.train()
    while loop.step < plan.total_steps:
        order = torch.randperm(len(labels), generator=gen, device=device)
        for b in range(plan.steps_per_epoch):
            if loop.step >= plan.total_steps:
                break
            if should_stop is not None and should_stop():
                raise TrainingCancelled(f"Training cancelled at step {loop.step} of {plan.total_steps}; nothing was stored.")  # fmt: skip
            idx = order[b * plan.batch : (b + 1) * plan.batch]
            s = Step(model, views(idx), labels[idx], idx, loop.step, plan.total_steps, dict(cfg.params), state,
                     view, images)  # fmt: skip
            for g in opt.param_groups:
                g["lr"] = cosine_lr(loop.step, plan.total_steps, cfg.lr, loop.warmup)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                loss = method.loss(s)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loop.done(loss.detach(), s.log)
            if snaps is not None:
                snaps.take(loop.step, model)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - loop.start
    model.eval()
    extra = {**loop.log_means(), **(method.record(state) if method.record is not None else {})}
    return TrainResult(model, ds, loop.losses, seconds, plan.total_steps * plan.batch / seconds, str(device),
                       plan.total_steps, extra, snaps.taken if snaps is not None else None)  # fmt: skip


class _Loop:
    """The training loop's bookkeeping: losses read back every few steps (a host sync on an
    accelerator), the divergence check, progress reports and the method's per-step logs."""

    def __init__(self, cfg: TrainConfig, plan: Plan, device: torch.device, progress):
        self.cfg, self.plan, self.progress = cfg, plan, progress
        self.sync_every = loss_read_every(device)
        self.warmup = min(plan.total_steps // 10, 50)
        self.step, self.losses, self.pending, self.logs = 0, [], [], {}
        self.start = time.perf_counter()

    def done(self, loss: torch.Tensor, log: dict) -> None:
        self.pending.append(loss)
        for k, v in log.items():
            self.logs.setdefault(k, []).append(v)
        self.step += 1
        total = self.plan.total_steps
        if len(self.pending) < self.sync_every and self.step != total:
            return
        values = torch.stack(self.pending).float().cpu().tolist()
        self.pending.clear()
        bad = [v for v in values if not math.isfinite(v)]
        if bad:
            raise TrainingDiverged(f"The loss became {bad[0]} at step {self.step} of {total}. Lower the learning rate "
                                   f"(now {self.cfg.lr}) or raise the temperature, then train again.")  # fmt: skip
        self.losses += values
        if self.progress is not None:
            elapsed = time.perf_counter() - self.start
            self.progress(Progress(self.step, total, self.step / self.plan.steps_per_epoch, values[-1],
                                   self.step * self.plan.batch / elapsed, elapsed,
                                   (total - self.step) * elapsed / self.step))  # fmt: skip

    def log_means(self) -> dict:
        """The mean over the run of every number the method logged per step."""
        return {k: sum(float(x) for x in v) / len(v) for k, v in self.logs.items()}
