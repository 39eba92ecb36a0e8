"""Snapshots of a run's representation during training: the backbone features of a fixed,
class-balanced probe set of its images, N times evenly over training.

What the subclass-accuracy curve over training (Xue et al. 2023: subclass features learned early,
unlearned later) and the training movie are drawn from. Stored with the run (lab.store.runs) as

  <run>/snapshots/rows.npy      int64 [M]       rows of the run (its evaluation rows) in the probe set
  <run>/snapshots/steps.npy     int64 [S]       the training step after which each snapshot was taken
  <run>/snapshots/features.npy  float16 [S, M, F] backbone features h of those rows at each snapshot

float16 halves the files; the probes on them lose nothing measurable at F = 128 [L].
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lab.core.models import embed, fast_bf16

SNAPSHOT_IMAGES = 5_000  # rows in the probe set [L]
MAX_SNAPSHOTS = 100  # a run records at most this many (TrainConfig checks it)


def snapshot_rows(labels: np.ndarray, n: int = SNAPSHOT_IMAGES, seed: int = 0) -> np.ndarray:
    """Sorted rows of a seeded, class-balanced probe set of n of the given rows (all when fewer)."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    share = [n // len(classes) + (1 if i < n % len(classes) else 0) for i in range(len(classes))]
    picks = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, share, strict=True)]
    return np.sort(np.concatenate(picks))


def snapshot_steps(total_steps: int, count: int) -> list[int]:
    """The steps (1-based, after that many steps) of `count` snapshots evenly over training, the last
    at the end."""
    if count < 1:
        return []
    return sorted({max(1, round(total_steps * k / count)) for k in range(1, count + 1)})


@dataclass
class Snapshots:
    rows: np.ndarray  # [M] rows of the run's evaluation images (train rows, then test rows)
    steps: list[int]  # [S]
    features: list[np.ndarray]  # S x [M, F] float16
    final_step: int | None = None  # the end of training, whose snapshot `completed` adds
    seconds: float = 0.0  # spent taking them during training

    def completed(self, h: np.ndarray) -> Snapshots:
        """With the snapshot at the end of training taken from the finished run's features h [N, F] of
        all its evaluation rows (the same model's output: embedding the probe set again costs time)."""
        if self.final_step is None or self.final_step in self.steps:
            return self
        feats = [*self.features, h[self.rows].astype(np.float16)]
        return Snapshots(self.rows, [*self.steps, self.final_step], feats, seconds=self.seconds)

    def stacked(self) -> np.ndarray:
        return np.stack(self.features) if self.features else np.zeros((0, len(self.rows), 0), np.float16)


class Snapshotter:
    """Takes a run's snapshots at their steps during training; `take(step, model)` after each step. The
    last one, at the end of training, is not embedded here: the store embeds every row of the finished
    model anyway and completes it from those features (`Snapshots.final_step`, `completed`).
    on_snapshot(step, h [M, F] float16, labels [M]) is called with each snapshot as it is taken (the app's
    live frames while training runs); its time counts in `seconds`."""

    def __init__(self, count: int, ds, total_steps: int, device: torch.device, seed: int,
                 on_snapshot: Callable[[int, np.ndarray, np.ndarray], None] | None = None):  # fmt: skip
        labels = torch.cat([ds.train_labels, ds.test_labels]).numpy()
        self.rows = snapshot_rows(labels, seed=seed)
        self.labels = labels[self.rows]
        self.on_snapshot = on_snapshot
        self.images = torch.cat([ds.train_images, ds.test_images])[torch.from_numpy(self.rows)]
        self.due = set(snapshot_steps(total_steps, count)) - {total_steps}
        self.device = device
        self.bf16 = fast_bf16(device)
        self.taken = Snapshots(self.rows, [], [], final_step=total_steps)

    def take(self, step: int, model) -> None:
        if step in self.due:
            start = time.perf_counter()
            # eval inside, then back; bf16 where that is faster (features within about 1 % of float32)
            h, _ = embed(model, self.images, self.device, projector=False, bf16=self.bf16)
            self.taken.steps.append(step)
            self.taken.features.append(h.numpy().astype(np.float16))
            if self.on_snapshot is not None:
                self.on_snapshot(step, self.taken.features[-1], self.labels)
            self.taken.seconds += time.perf_counter() - start
