"""The class-collapse (CC) toy, and the disk cache both linear toys share.

Xue, Joshi, Gan, Chen & Mirzasoleiman 2023, "Which Features are Learnt by Contrastive Learning?"
(arXiv 2305.16536), claims C1, C2 and C5: supervised contrastive learning learns a class's subclasses
early and unlearns them later; the joint loss keeps them. The toy [L, after the paper's model] is the
one of the lab's spec (section 4), docs/science.md "Xue 2023" (the linear toys):

    x = y·(e1 + b·e2) + y_sub·e2 + ξ      y, y_sub ∈ {±1}; ξ Gaussian on coordinates 3..d, norm ≈ 4

f(x) = Wx with p = 3, trained by full-batch gradient descent (lr 0.01, 3,000 steps) on L_UCL, L_SCL and
the joint loss at once (lab.papers.xue2023.toy_spectral); every 50 steps a within-class probe asks
whether the training points' embeddings still separate the subclasses. The tilt b is the spec's
construction: at b = 0 the supervised loss has no gradient along e2, and nothing is learned to collapse.

    >>> result = cc_result(CCConfig(b=0.5), runs_root)   # cached under <runs>/_xue2023_toys/
    >>> result.subclass_acc["SCL"][:4]                    # high early, near 0.5 late
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lab.papers.xue2023.toy_spectral import (
    Group,
    centred_scaled,
    expected_loss,
    logistic_accuracy,
    small_init,
    spectral_gd,
    stable_lr,
)
from lab.store.atomic import save_json_atomically
from lab.store.derived import load_json

CACHE_FOLDER = "_xue2023_toys"  # <runs>/_xue2023_toys/<toy>-<hash of every setting>.json [L]
TOY_VERSION = 1  # part of every cache key: bump when a stored number changes meaning
CC_LOSSES = ("UCL", "SCL", "joint")  # the three models every CC run trains side by side
PROBE_C = 1.0  # the probes' inverse penalty (sklearn's default C) [L]
SCATTER_STEPS = (100, 400, 1000)  # the scatter's moments, then the last step [L]
# What the spec measured on this toy at its settings (b = 0.5, alpha = 0.5), step -> accuracy [D]
SPEC_CC = {"SCL": {50: 1.0, 100: 1.0, 150: 1.0, 250: 0.69, 1000: 0.5, 2000: 0.5, 3000: 0.5},
           "joint": {300: 0.87, 3000: 1.0}, "UCL": {3000: 1.0}}  # fmt: skip


# ---------------------------------------------------------------- the cache both toys share
def settings_key(toy: str, cfg) -> str:
    """12 hex digits naming a toy's settings (and TOY_VERSION): its cache file's name."""
    text = json.dumps({"toy": toy, "v": TOY_VERSION, **dataclasses.asdict(cfg)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cache_path(root: str | os.PathLike, toy: str, cfg) -> Path:
    return Path(root) / CACHE_FOLDER / f"{toy}-{settings_key(toy, cfg)}.json"


def read_cached(root, toy: str, cfg) -> dict | None:
    """The stored JSON of (toy, cfg), or None (missing, damaged, or another setting's)."""
    found = load_json(cache_path(root, toy, cfg))
    ok = isinstance(found, dict) and found.get("key") == settings_key(toy, cfg)
    return found if ok else None


def write_cached(root, toy: str, cfg, value: dict) -> None:
    save_json_atomically(cache_path(root, toy, cfg), {"key": settings_key(toy, cfg), **value}, indent=None)


def cached_or_run(root, toy: str, cfg, run, from_json, progress=None, should_stop=None):
    """A toy's result for cfg: read from the cache, or run(cfg, progress, should_stop) on one torch
    thread and stored."""
    from lab.measures.features import torch_threads

    found = read_cached(root, toy, cfg)
    if found is not None:
        return from_json(found)
    with torch_threads(1):
        result = run(cfg, progress, should_stop)
    write_cached(root, toy, cfg, result.to_json())
    return result


def rounded(x) -> list:
    """An array as nested lists of floats rounded to 5 decimals (the cache files stay small)."""
    return np.round(np.asarray(x, dtype=np.float64), 5).tolist()


# ---------------------------------------------------------------- the CC toy
@dataclass(frozen=True)
class CCConfig:
    """One CC run (UCL, SCL and joint side by side). Checked once, here; defaults are the spec's [D]."""

    b: float = 0.5  # the tilt: how much of e2 the class label carries [L]
    alpha: float = 0.5  # the joint loss's weight on L_SCL
    seed: int = 0  # the data (train and test) and W's initialisation
    steps: int = 3000
    every: int = 50  # steps between probes
    n_train: int = 200
    n_test: int = 1000
    d: int = 512
    p: int = 3  # the embedding dimension; the scatter draws the first 3
    noise_norm: float = 4.0  # E‖ξ‖² = noise_norm²
    lr: float = 0.01
    init: float = 1e-4  # the size of each row of W at step 0

    def __post_init__(self):
        if not 0 <= self.b <= 10:
            raise ValueError(f"The tilt b must be between 0 and 10; got {self.b}.")
        if not 0 <= self.alpha <= 1:
            raise ValueError(f"alpha must be between 0 (UCL) and 1 (SCL); got {self.alpha}.")
        if self.steps < 1 or not 1 <= self.every <= self.steps:
            raise ValueError(
                f"Need steps ≥ 1 and 1 ≤ every ≤ steps; got steps = {self.steps}, every = {self.every}."
            )
        if self.n_train < 8 or self.n_test < 8 or self.n_train % 4 or self.n_test % 4:
            raise ValueError(f"n_train and n_test must be multiples of 4 (2 classes × 2 subclasses), at least 8; "
                             f"got {self.n_train} and {self.n_test}.")  # fmt: skip
        if self.d < 3 or not 3 <= self.p <= 64:
            raise ValueError(f"Need d ≥ 3 and 3 ≤ p ≤ 64; got d = {self.d}, p = {self.p}.")
        if not (self.noise_norm >= 0 and self.lr > 0 and self.init > 0):
            raise ValueError("noise_norm must be ≥ 0, lr and init above 0.")

    def key(self) -> str:
        return settings_key("cc", self)


def cc_data(n: int, cfg: CCConfig, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n points of the CC toy, balanced over the 2 × 2 (class, subclass) cells: x [n, d] float32, class
    [n] and subclass [n] in {0, 1}. x = y·(e1 + b·e2) + y_sub·e2 + ξ with y = 2·class − 1 [L]."""
    cell = torch.arange(n) % 4
    cls, sub = cell // 2, cell % 2
    y, y_sub = 2.0 * cls - 1, 2.0 * sub - 1
    x = torch.zeros(n, cfg.d)
    x[:, 0] = y
    x[:, 1] = cfg.b * y + y_sub
    x[:, 2:] = torch.randn(n, cfg.d - 2, generator=gen) * (cfg.noise_norm / max(cfg.d - 2, 1) ** 0.5)
    return x, cls, sub


@dataclass
class CCResult:
    """A CC run. Arrays per loss in CC_LOSSES order; `embeddings` are the training points', centred and
    scaled as the probe sees them."""

    config: CCConfig
    steps: np.ndarray  # [T] the probed steps: 0, every, 2·every, ..., steps
    subclass_acc: dict[str, np.ndarray]  # loss -> [T] within-class subclass probe accuracy on the test points
    loss: dict[str, np.ndarray]  # loss -> [T] the loss value (its expectation: exact here, no augmentation)
    scatter_steps: np.ndarray  # [4]
    embeddings: dict[str, np.ndarray]  # loss -> [4, n_train, 3]
    classes: np.ndarray  # [n_train] 0/1
    subclasses: np.ndarray  # [n_train] 0/1
    lr: float
    seconds: float  # training and probing, one thread

    def to_json(self) -> dict:
        return {"config": dataclasses.asdict(self.config), "steps": self.steps.tolist(),
                "subclass_acc": {k: rounded(v) for k, v in self.subclass_acc.items()},
                "loss": {k: rounded(v) for k, v in self.loss.items()}, "scatter_steps": self.scatter_steps.tolist(),
                "embeddings": {k: rounded(v) for k, v in self.embeddings.items()}, "classes": self.classes.tolist(),
                "subclasses": self.subclasses.tolist(), "lr": self.lr, "seconds": self.seconds}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict) -> CCResult:
        arrays = {k: {name: np.asarray(v, dtype=np.float32) for name, v in d[k].items()}
                  for k in ("subclass_acc", "loss", "embeddings")}  # fmt: skip
        return cls(CCConfig(**d["config"]), np.asarray(d["steps"]), **arrays, scatter_steps=np.asarray(d["scatter_steps"]),
                   classes=np.asarray(d["classes"]), subclasses=np.asarray(d["subclasses"]), lr=d["lr"], seconds=d["seconds"])  # fmt: skip


def scatter_steps(cfg: CCConfig) -> list[int]:
    """The four moments the scatter shows: the probed steps nearest SCATTER_STEPS (below the last), then
    the last step."""
    probed = [s for s in range(0, cfg.steps, cfg.every)]
    return [min(probed, key=lambda s, t=t: abs(s - t)) for t in SCATTER_STEPS] + [cfg.steps]


def run_cc(cfg: CCConfig, progress: Callable[[float], None] | None = None,
           should_stop: Callable[[], bool] | None = None) -> CCResult:  # fmt: skip
    """Train the three models on the CC toy and probe them every cfg.every steps (the caller's thread
    count; the worker and the bench use one thread).

    W acts on the training points' span only through its coordinates there (the rest of W keeps its
    initial value, which still meets the fresh noise of the test points), so training runs in that
    span, rotated so that T = XᵀX/n is diagonal [D].
    """
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(cfg.seed)
    x, cls, sub = cc_data(cfg.n_train, cfg, gen)
    xt, cls_t, sub_t = cc_data(cfg.n_test, cfg, gen)
    w0 = small_init(gen, cfg.p, cfg.d, cfg.init)
    _, s, vh = torch.linalg.svd(x, full_matrices=False)
    v = vh[s > s[0] * 1e-6].T  # [d, r] the training points' span
    xr, xtr = x @ v, xt @ v
    offset = (xt - xtr @ v.T) @ w0.T  # [n_test, p] the test points meet the untrained part of W
    t = (xr * xr).sum(0) / cfg.n_train  # T = XᵀX/n, diagonal in this basis
    sums = torch.nn.functional.one_hot(cls).float().T @ xr  # [2, r] class sums
    alphas = {"UCL": 0.0, "SCL": 1.0, "joint": cfg.alpha}
    a = torch.tensor(list(alphas.values()))[:, None, None]
    # C = (1 − α) T + α Σ_c s_c s_cᵀ / Σ_c n_c², T₂ = T: a structured group
    low = (a * sums.T / (torch.bincount(cls) ** 2).sum(), sums.T.expand(3, -1, -1))
    group = Group((w0 @ v).expand(3, -1, -1).contiguous(), (1 - a[:, 0]) * t, low=low)
    lr = stable_lr(cfg.lr, float(t.max()))
    _, (snaps,) = spectral_gd([group], t, lr, cfg.steps, cfg.every, progress, should_stop)
    w = torch.stack(snaps)  # [T, 3, p, r]
    c, t2 = group.dense(t)
    losses = expected_loss(w, c, torch.diag(t), t2)  # [T, 3]
    f, ft = centred_scaled(xr @ w.mT, xtr @ w.mT + offset)  # [T, 3, n, p]
    acc = torch.zeros(len(w), 3)
    for k in (0, 1):  # within each class: subclass from the embedding, fitted on train, scored on test
        a, b = f[..., cls == k, :], ft[..., cls_t == k, :]
        fit_y = sub[cls == k].float().expand(*a.shape[:2], -1).flatten(0, 1)
        test_y = sub_t[cls_t == k].float().expand(*b.shape[:2], -1).flatten(0, 1)
        acc += (
            logistic_accuracy(a.flatten(0, 1), fit_y, b.flatten(0, 1), test_y, PROBE_C).reshape(len(w), 3) / 2
        )
    steps = [min(i * cfg.every, cfg.steps) for i in range(len(w))]
    moments = scatter_steps(cfg)
    rows = [steps.index(m) for m in moments]
    emb = f[rows][..., :3].numpy()  # [4, 3, n, 3]
    return CCResult(cfg, np.asarray(steps), {name: acc[:, i].numpy() for i, name in enumerate(alphas)},
                    {name: losses[:, i].numpy() for i, name in enumerate(alphas)},
                    np.asarray(moments), {name: emb[:, i] for i, name in enumerate(alphas)}, cls.numpy(),
                    sub.numpy(), lr, time.perf_counter() - start)  # fmt: skip


def cc_summary(r: CCResult) -> dict[str, dict[str, float]]:
    """Per loss: the peak accuracy and its (first) step, the lowest accuracy after the peak and its step,
    the final accuracy, and the collapse drop = peak − final (the image protocol's measure, spec §4)."""
    out = {}
    for name, acc in r.subclass_acc.items():
        top = int(np.argmax(acc))
        low = top + int(np.argmin(acc[top:]))
        out[name] = {"peak": float(acc[top]), "peak_step": int(r.steps[top]), "dip": float(acc[low]),
                     "dip_step": int(r.steps[low]), "final": float(acc[-1]), "drop": float(acc[top] - acc[-1])}  # fmt: skip
    return out


def stored_cc(cfg: CCConfig, root) -> CCResult | None:
    """The cached CC run of cfg, or None."""
    found = read_cached(root, "cc", cfg)
    return None if found is None else CCResult.from_json(found)


def cc_result(cfg: CCConfig, root, progress=None, should_stop=None) -> CCResult:
    """The CC run of cfg: read from the cache, or trained on one torch thread and stored."""
    return cached_or_run(root, "cc", cfg, run_cc, CCResult.from_json, progress, should_stop)
