"""The image–label special case of Baptista, Stuart & Tran 2025 on Fashion-MNIST [P special case, L scale].

u = an image, v = its label. The image encoder f is a small MLP [L]; the label encoder is a learned
vector W_c per class (a one-hot label times a matrix), so s(x, c) = f(x)ᵀW_c. On a batch of B images
with labels y (S[i, c] = s(x_i, c), p = the labels' marginal, known exactly for 10 classes):

    label|image: −mean_i S[i, y_i] + mean_i log Σ_c p_c e^{S[i, c]}          (= cross-entropy of s + log p, minus H(p))
    image|label: −mean_i S[i, y_i] + mean_i log mean_j e^{S[j, y_i]}       (E_{u'} over the batch's images)
    two-sided:   ½ (label|image) + ½ (image|label)

What is measured (docs/science.md, "Baptista, Stuart & Tran 2025"), on the test split:
- the model's label probabilities p(c | x) ∝ p_c e^{s(x, c)}: accuracy, mean largest probability, mean entropy;
- images drawn for a label c from a pool of test images with weights e^{s(x, c)} (the model's image|label
  over the pool's empirical measure): effective sample size (Σw)² / Σw², the weight on images of class c,
  and how many distinct images IMAGE_DRAWS draws give.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lab.measures.features import torch_threads
from lab.papers.tilting2025 import constants as k


@dataclass(frozen=True)
class ImageLabelConfig:
    dataset: str = "fashion-mnist"
    subset: int | None = None  # training images (None: all)
    n_e: int = k.IMAGE_DIM
    hidden: int = k.IMAGE_HIDDEN
    epochs: float = k.IMAGE_EPOCHS
    batch: int = k.IMAGE_BATCH
    lr: float = k.IMAGE_LR
    pool: int = k.IMAGE_POOL
    draws: int = k.IMAGE_DRAWS
    seed: int = 0

    def __post_init__(self):
        if self.batch < 2:
            raise ValueError(f"The batch needs at least 2 images; got {self.batch}.")
        if min(self.n_e, self.hidden, self.pool, self.draws) < 1 or not (self.epochs > 0 and self.lr > 0):
            raise ValueError("n_e, hidden, pool and draws must be at least 1; epochs and lr above 0.")

    def key(self) -> str:
        text = json.dumps({"v": k.CACHE_VERSION, **dataclasses.asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


class ImageEncoder(nn.Module):
    """f: a flattened image in [0, 1] -> R^n_e, a two-layer MLP [L]."""

    def __init__(self, d_in: int, hidden: int, n_e: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, n_e))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x [B, d_in] -> [B, n_e]
        return self.net(x)


def image_label_loss(s: torch.Tensor, y: torch.Tensor, log_prior: torch.Tensor, loss: str) -> torch.Tensor:
    """s [B, C]: s(x_i, c); y [B] labels; log_prior [C] = log p_c. The three losses of the module docstring."""
    positive = s.gather(1, y[:, None]).mean()
    label_given_image = torch.logsumexp(s + log_prior, 1).mean()
    image_given_label = (torch.logsumexp(s, 0) - math.log(len(s)))[y].mean()
    if loss == "label|image":
        return -positive + label_given_image
    if loss == "image|label":
        return -positive + image_given_label
    if loss == "two-sided":
        return -positive + 0.5 * label_given_image + 0.5 * image_given_label
    raise ValueError(f"Unknown loss '{loss}'. Choose one of: {', '.join(k.IMAGE_LOSSES)}.")


def _flat(images: torch.Tensor) -> torch.Tensor:
    return images.flatten(1).float() / 255.0


def train_image_label(
    cfg: ImageLabelConfig, loss: str, data, progress: Callable[[float], None] | None = None
):
    """Train f and W with one loss (Adam, fixed lr); returns (f, W [C, n_e], seconds, losses)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    x, y = _flat(data.train_images), data.train_labels
    prior = torch.bincount(y, minlength=data.num_classes).float() / len(y)
    f = ImageEncoder(x.shape[1], cfg.hidden, cfg.n_e)
    w = nn.Parameter(0.1 * torch.randn(data.num_classes, cfg.n_e, generator=gen))
    opt = torch.optim.Adam([*f.parameters(), w], lr=cfg.lr)
    steps = max(1, round(cfg.epochs * len(y) / cfg.batch))
    start, losses, order = time.perf_counter(), [], torch.empty(0, dtype=torch.long)
    for step in range(steps):
        if len(order) < cfg.batch:
            order = torch.randperm(len(y), generator=gen)
        rows, order = order[: cfg.batch], order[cfg.batch :]
        value = image_label_loss(f(x[rows]) @ w.T, y[rows], prior.log(), loss)
        opt.zero_grad()
        value.backward()
        opt.step()
        losses.append(value.item())
        if progress is not None and (step + 1) % 20 == 0:
            progress((step + 1) / steps)
    return f, w.detach(), time.perf_counter() - start, losses


@torch.no_grad()
def measure_image_label(f: nn.Module, w: torch.Tensor, data, cfg: ImageLabelConfig) -> dict:
    """Sharpness of p(c | x) on the test split; diversity of images drawn for each label from the pool."""
    s = (f(_flat(data.test_images)) @ w.T).double()  # [M, C]
    y = data.test_labels
    prior = torch.bincount(data.train_labels, minlength=data.num_classes).double() / len(data.train_labels)
    probs = torch.softmax(s + prior.log(), 1)
    entropy = -(probs * probs.clamp_min(1e-300).log()).sum(1)
    pool = min(cfg.pool, len(y))
    gen = torch.Generator().manual_seed(cfg.seed)
    per_label = []
    for c in range(data.num_classes):
        weights = torch.softmax(s[:pool, c], 0)  # ∝ e^{s(x, c)} over the pool
        drawn = torch.multinomial(weights, cfg.draws, replacement=True, generator=gen)
        per_label.append({"ess": float(1 / (weights**2).sum()), "top_weight": float(weights.max()),
                          "on_label": float(weights[y[:pool] == c].sum()),
                          "distinct": len(set(drawn.tolist())), "drawn": drawn.tolist(),
                          "drawn_on_label": float((y[drawn] == c).double().mean())})  # fmt: skip
    return {
        "accuracy": float((probs.argmax(1) == y).double().mean()),
        "max_probability": float(probs.max(1).values.mean()),
        "entropy": float(entropy.mean()),
        "per_label": per_label,
        **{key: float(np.mean([p[key] for p in per_label])) for key in ("ess", "top_weight", "on_label", "distinct", "drawn_on_label")},
    }  # fmt: skip


def reference(data, cfg: ImageLabelConfig) -> dict:
    """What needs no model: the label prior as p(c | x), and a uniform draw among the pool's images of the
    label (the most diverse sampler that stays on the label)."""
    y = data.test_labels[: min(cfg.pool, len(data.test_labels))]
    prior = torch.bincount(data.train_labels, minlength=data.num_classes).double()
    prior /= prior.sum()
    counts = torch.bincount(y, minlength=data.num_classes).double()
    distinct = counts * (
        1 - (1 - 1 / counts.clamp_min(1)) ** cfg.draws
    )  # expected distinct of `draws` uniform draws
    return {"accuracy": float((y == prior.argmax()).double().mean()), "max_probability": float(prior.max()),
            "entropy": float(-(prior * prior.log()).sum()), "ess": float(counts.mean()), "on_label": 1.0,
            "distinct": float(distinct.mean()), "drawn_on_label": 1.0, "top_weight": float((1 / counts).mean())}  # fmt: skip


def run_image_label(cfg: ImageLabelConfig, progress: Callable[[float, str], None] | None = None) -> dict:
    """Train one encoder pair per loss on the same data and seed, measure each; JSON-ready."""
    from lab.core.data import load_dataset

    data = load_dataset(cfg.dataset, cfg.subset, cfg.seed)
    out = {"config": dataclasses.asdict(cfg), "key": cfg.key(), "classes": list(data.classes),
           "source": data.source, "n_train": len(data.train_labels), "n_test": len(data.test_labels),
           "reference": reference(data, cfg), "losses": {}}  # fmt: skip
    with torch_threads(1):
        for i, loss in enumerate(k.IMAGE_LOSSES):

            def report(f: float, i=i, loss=loss) -> None:
                if progress is not None:
                    progress((i + f) / len(k.IMAGE_LOSSES), f"Training with the {loss} loss")

            f, w, seconds, losses = train_image_label(cfg, loss, data, report)
            out["losses"][loss] = {**measure_image_label(f, w, data, cfg), "seconds": round(seconds, 2),
                                   "loss_curve": losses[:: max(1, len(losses) // 200)]}  # fmt: skip
    return out
