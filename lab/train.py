"""Config dataclass -> trained encoder. Progress goes to a callback; cancellation is checked
between steps; a non-finite loss stops the run with a clear error.

The whole training set sits on the training device as one uint8 tensor; each step indexes a
batch and augments it there (lab.augment), so no per-image Python runs in the loop.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lab.augment import AugmentParams, augment, make_generator
from lab.data import Dataset, check_dataset_name, load_dataset
from lab.methods import get_method
from lab.models import ENCODERS, Encoder

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


# Measured on 2 cores (README, "Measured figures"): two-view methods at 1.6 epochs reach 84 % kNN on
# Fashion-MNIST in under a minute; supervised, one view per image and twice as fast, needs 3 epochs
# for 90 % (2 gave 89.5 %).
DEFAULT_EPOCHS = {"supervised": 3.0}
TWO_VIEW_DEFAULT_EPOCHS = 1.6


def default_epochs(method: str) -> float:
    return DEFAULT_EPOCHS.get(method, TWO_VIEW_DEFAULT_EPOCHS)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run. Validation lives here, so CLI, app and tests get the same errors."""

    dataset: str = "fashion-mnist"
    subset: int | None = None  # class-balanced training subset size; None = all
    method: str = "simclr"
    encoder: str = "cnn"
    width: int = 16
    embedding_size: int = 128
    aug_strength: float = 0.6
    temperature: float = 0.5
    alpha: float = 0.5  # joint only
    batch_size: int = 256  # measured: beats 512 at equal time (84.8 % vs 83.8 % kNN, 2 epochs)
    # Fractional epochs allowed: the schedule runs over round(epochs * steps/epoch). None = the
    # method's default (DEFAULT_EPOCHS), chosen so a default Fashion-MNIST run takes about a minute.
    epochs: float | None = None
    lr: float = 4e-3
    weight_decay: float = 5e-4
    seed: int = 0
    device: str = "auto"  # not part of the run's identity

    def __post_init__(self):
        check_dataset_name(self.dataset)
        method = get_method(self.method)
        if self.epochs is None:
            object.__setattr__(self, "epochs", default_epochs(self.method))
        if self.encoder not in ENCODERS:
            raise ValueError(f"Unknown encoder '{self.encoder}'. Choose one of: {', '.join(ENCODERS)}.")
        checks = [
            (0.0 <= self.aug_strength <= 1.0, f"aug_strength must be in [0, 1]; got {self.aug_strength}."),
            (
                2 <= self.embedding_size <= 2048,
                f"embedding_size must be 2 to 2048; got {self.embedding_size}.",
            ),
            (self.batch_size >= 2, f"batch_size must be at least 2; got {self.batch_size}."),
            (self.temperature > 0, f"temperature must be above 0; got {self.temperature}."),
            (0.0 <= self.alpha <= 1.0, f"alpha must be in [0, 1]; got {self.alpha}."),
            (self.epochs > 0 and math.isfinite(self.epochs), f"epochs must be above 0; got {self.epochs}."),
            (self.lr > 0 and math.isfinite(self.lr), f"lr must be a positive number; got {self.lr}."),
            (self.weight_decay >= 0, f"weight_decay must be 0 or more; got {self.weight_decay}."),
            (1 <= self.width <= 256, f"width must be 1 to 256; got {self.width}."),
            (
                self.subset is None or self.subset >= 10,
                f"subset must be at least 10 images; got {self.subset}.",
            ),
            (
                self.device in DEVICE_CHOICES,
                f"device must be one of {', '.join(DEVICE_CHOICES)}; got {self.device}.",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        del method

    def key(self) -> dict:
        """The normalised config that names the run: settings the method ignores are dropped,
        and the device is left out (the same config on another device is the same run)."""
        d = dataclasses.asdict(self)
        d.pop("device")
        method = get_method(self.method)
        if not method.uses_temperature:
            d.pop("temperature")
        if not method.uses_alpha:
            d.pop("alpha")
        d["epochs"] = float(d["epochs"])
        return d

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"Unknown config field(s) {sorted(unknown)}. Known: {', '.join(sorted(known))}.")
        return cls(**d)


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


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA, then MPS, then CPU, unless a device is asked for by name."""
    if requested != "auto":
        if requested == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for, but no CUDA GPU is visible. Use 'auto' or 'cpu'.")
        if requested == "mps" and not torch.backends.mps.is_available():
            raise ValueError("device 'mps' was asked for, but MPS is not available. Use 'auto' or 'cpu'.")
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def build_model(cfg: TrainConfig, ds: Dataset) -> Encoder:
    mean = ds.train_images[:10_000].float().mean().item() / 255
    std = ds.train_images[:10_000].float().std().item() / 255
    return Encoder(cfg.encoder, ds.shape[0], cfg.width, cfg.embedding_size, ds.num_classes, mean, std)


def warm_up_training() -> float:
    """Build a throwaway optimiser: a process's first torch optimiser imports torch._dynamo (about
    1.7 s on 2 cores, measured with cProfile), which the app's worker pays at start-up instead of
    after a user clicks Start. Returns the seconds it took."""
    start = time.perf_counter()
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    return time.perf_counter() - start


def loss_read_every(device: torch.device) -> int:
    """Steps between reads of the loss. On an accelerator each read is a host sync that stalls the
    queue of kernels, so it happens every 10 steps (a tenth of a second on an H200)."""
    return 1 if device.type == "cpu" else 10


def default_run_duration(dataset: str, device: torch.device) -> str:
    """How long the default run of `dataset` takes on this kind of device, as measured (README,
    'Measured figures'): for the app's empty state."""
    if dataset != "fashion-mnist":
        return "a few seconds"
    if device.type == "cuda":
        return "a few seconds of training on a GPU, under half a minute with scoring (measured on an H200)"
    if device.type == "mps":
        return "not yet timed on MPS; about a minute on 2 CPU cores"
    return "about a minute on 2 CPU cores"


def cosine_lr(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * t))


def train(
    cfg: TrainConfig,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train an encoder as `cfg` says. `progress` is called each time the loss is read back: after
    every step on the CPU, every `loss_read_every(device)` steps on an accelerator, and after the last
    step (cheaply; throttle in the UI). `should_stop()` is polled between steps and, when true,
    raises TrainingCancelled."""
    device = pick_device(cfg.device)
    method = get_method(cfg.method)
    torch.manual_seed(cfg.seed)
    ds = load_dataset(cfg.dataset, cfg.subset, cfg.seed)
    images = ds.train_images.to(device)  # uint8 [N, C, H, W], the whole split on the device
    labels = ds.train_labels.to(device)
    n = len(labels)
    batch = min(cfg.batch_size, n)
    steps_per_epoch = max(1, n // batch)
    total = max(1, round(cfg.epochs * steps_per_epoch))
    model = build_model(cfg, ds).to(device)
    model = model.to(memory_format=torch.channels_last)  # measured: 1.35x faster on 2 CPU cores too
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    params = AugmentParams.from_strength(cfg.aug_strength)
    gen = make_generator(cfg.seed, device)
    warmup = min(total // 10, 50)
    use_amp = device.type == "cuda"
    sync_every = loss_read_every(device)

    losses: list[float] = []
    pending: list[torch.Tensor] = []
    model.train()
    start = time.perf_counter()
    step = 0
    while step < total:
        order = torch.randperm(n, generator=gen, device=device)
        for b in range(steps_per_epoch):
            if step >= total:
                break
            if should_stop is not None and should_stop():
                raise TrainingCancelled(f"Training cancelled at step {step} of {total}; nothing was stored.")
            idx = order[b * batch : (b + 1) * batch]
            views = [
                augment(images[idx], params, gen).contiguous(memory_format=torch.channels_last)
                for _ in range(method.n_views)
            ]
            for g in opt.param_groups:
                g["lr"] = cosine_lr(step, total, cfg.lr, warmup)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = method.loss(model, views, labels[idx], cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            pending.append(loss.detach())
            step += 1
            if len(pending) >= sync_every or step == total:
                values = torch.stack(pending).float().cpu().tolist()
                pending.clear()
                bad = [v for v in values if not math.isfinite(v)]
                if bad:
                    raise TrainingDiverged(
                        f"The loss became {bad[0]} at step {step} of {total}. Lower the learning rate "
                        f"(now {cfg.lr}) or raise the temperature, then train again."
                    )
                losses += values
                if progress is not None:
                    elapsed = time.perf_counter() - start
                    rate = step * batch / elapsed
                    progress(Progress(step, total, step / steps_per_epoch, values[-1], rate, elapsed,
                                      (total - step) * elapsed / step))  # fmt: skip
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    model.eval()
    return TrainResult(model, ds, losses, seconds, total * batch / seconds, str(device), total)
