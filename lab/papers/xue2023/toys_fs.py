"""The feature-suppression (FS) toy: which features a linear encoder keeps, against the embedding size p
and against how often augmentation breaks the easy feature (q).

Xue, Joshi, Gan, Chen & Mirzasoleiman 2023 (arXiv 2305.16536), claims C3, C4 and C5. The toy [L, after
the paper's model] is the one of the lab's spec (section 4), docs/science.md "Xue 2023" (the
linear toys):

    x = [3·z_easy (k_e dims), y·μ (4 dims: the hard, relevant feature), 16 zeros] + N(0, 0.3²)

views add N(0, 0.5²), and view 2 redraws z_easy with probability q. f(x) = Wx is trained by full-batch
gradient descent on the loss's expectation over the augmentations (lab.papers.xue2023.toy_spectral),
lr 0.01, 3,000 steps, then a logistic probe reads y from the embeddings of fresh points. A run is one
line: every embedding size p of p_grid at one q, or every q of Q_GRID at one p, trained at once.

    >>> line = fs_result(FSConfig(k_e=32, n=1000, axis="p"), runs_root)   # under <runs>/_xue2023_toys/
    >>> line.accuracy                                                       # ≈ 0.5 until p > k_e, then 1.0
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lab.papers.xue2023.toy_spectral import (
    Group,
    centred_scaled,
    logistic_accuracy,
    small_init,
    spectral_gd,
    stable_lr,
)
from lab.papers.xue2023.toys import PROBE_C, cached_or_run, read_cached, rounded, settings_key

AXES = ("p", "q")
HARD = (0.5, 0.5, 0.5, 0.5)  # μ, unit norm [L: the spec gives its 4 dimensions, not its values]
N_ZEROS = 16
Q_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)  # the "against q" line [L]
PAD_LADDER = (16, 64)  # narrow models of similar p train in one padded batch, wider ones alone [L]


@dataclass(frozen=True)
class FSConfig:
    """One FS line. Checked once, here; defaults are the spec's measured settings [D]."""

    k_e: int = 32  # dimensions of the easy feature
    n: int = 1000  # training examples
    axis: str = "p"  # "p": every p of p_grid at this q; "q": every q of Q_GRID at this p
    alpha: float = 0.0  # weight on L_SCL: 0 is L_UCL, else the joint loss
    q: float = 0.0  # the line against p: probability that view 2 redraws z_easy
    p: int = 0  # the line against q: the embedding size (0: default_p(k_e))
    seed: int = 0  # the data and W's initialisation
    steps: int = 3000
    n_test: int = 2000  # fresh points: the probe fits on the first half and is scored on the second
    lr: float = 0.01  # lowered where it would diverge (toy_spectral.stable_lr)
    init: float = 1e-4
    easy_scale: float = 3.0
    noise: float = 0.3  # sd of the examples' own noise
    aug_noise: float = 0.5  # sd of the noise each view adds

    def __post_init__(self):
        if self.axis not in AXES:
            raise ValueError(f"Unknown axis '{self.axis}'. Choose one of: {', '.join(AXES)}.")
        if not 1 <= self.k_e <= 256:
            raise ValueError(f"k_e (easy dimensions) must be between 1 and 256; got {self.k_e}.")
        if self.n < 4 or self.n % 2 or self.n_test < 8 or self.n_test % 4:
            raise ValueError(f"n must be even and at least 4, n_test a multiple of 4 and at least 8; got n = "
                             f"{self.n}, n_test = {self.n_test}.")  # fmt: skip
        if not (0 <= self.q <= 1 and 0 <= self.alpha <= 1):
            raise ValueError(f"q and alpha must be between 0 and 1; got q = {self.q}, alpha = {self.alpha}.")
        if not 0 <= self.p <= self.d:
            raise ValueError(
                f"p must be between 1 and d = k_e + 20 = {self.d} (0: the default); got {self.p}."
            )
        if self.steps < 1 or not (self.lr > 0 and self.init > 0 and self.easy_scale >= 0):
            raise ValueError("steps must be at least 1, lr and init above 0, easy_scale ≥ 0.")
        if not (self.noise >= 0 and self.aug_noise >= 0):
            raise ValueError("noise and aug_noise must be ≥ 0.")
        # the unused knob of each axis does not change the run: one key for all its values
        object.__setattr__(self, "p", 0 if self.axis == "p" else (self.p or default_p(self.k_e)))
        if self.axis == "q":
            object.__setattr__(self, "q", 0.0)

    @property
    def d(self) -> int:
        return self.k_e + len(HARD) + N_ZEROS

    @property
    def label(self) -> str:
        loss = "UCL" if self.alpha == 0 else f"joint (α = {self.alpha:g})"
        return f"{loss}, q = {self.q:g}" if self.axis == "p" else f"{loss}, p = {self.p}"

    def models(self) -> list[tuple[int, float]]:
        """(p, q) of every model of the line."""
        return [(p, self.q) for p in p_grid(self)] if self.axis == "p" else [(self.p, q) for q in Q_GRID]

    def key(self) -> str:
        return settings_key("fs", self)


def p_grid(cfg) -> list[int]:
    """The embedding sizes of the lines against p: powers of 2 below d, k_e and k_e + 1 (the spec's jump), d."""
    powers = [2**i for i in range(9) if 2**i < cfg.d]
    return sorted({*powers, cfg.k_e, min(cfg.k_e + 1, cfg.d), cfg.d})


def default_p(k_e: int) -> int:
    """The embedding size of the line against q unless chosen: half the easy dimensions (q = 0 suppresses
    there), at most 8 (a larger p costs time and shows the same) [L]."""
    return max(1, min(k_e // 2, 8))


def fs_data(n: int, cfg: FSConfig, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n examples, balanced over y: x [n, d], its easy part e [n, d] (3·z_easy, zero elsewhere), y [n] in {0, 1}."""
    y = torch.arange(n) % 2
    e = torch.zeros(n, cfg.d)
    e[:, : cfg.k_e] = cfg.easy_scale * torch.randn(n, cfg.k_e, generator=gen)
    x = e.clone()
    x[:, cfg.k_e : cfg.k_e + len(HARD)] = (2.0 * y - 1)[:, None] * torch.tensor(HARD)
    return x + cfg.noise * torch.randn(n, cfg.d, generator=gen), e, y


@dataclass(frozen=True)
class Moments:
    """The FS loss's d × d matrices for every (alpha, q) [D] (toy_spectral's module docstring):
    C(α, q) = (1 − α)(A0 − q A1) + α Cs(q) and T₂(q) = T − q D, with T = A0 + aug_noise² I."""

    a0: torch.Tensor  # XᵀX / n
    a1: torch.Tensor  # (XᵀE + EᵀX) / 2n: what a redrawn easy part takes from the positive pairs
    dq: torch.Tensor  # (EᵀX + XᵀE − EᵀE) / n − easy_scale² P_easy: what it changes in view 2
    sums: torch.Tensor  # [2, d] Σ x over each class
    easy_sums: torch.Tensor  # [2, d] Σ e over each class
    pairs: float  # Σ_c n_c², the number of same-class pairs
    t: torch.Tensor  # T

    def c(self, alpha: float, q: float) -> torch.Tensor:
        cs = self.sums.T @ (self.sums - q * self.easy_sums) / self.pairs
        return (1 - alpha) * (self.a0 - q * self.a1) + alpha * (cs + cs.T) / 2

    def t2(self, q: float) -> torch.Tensor:
        return self.t - q * self.dq


def fs_moments(x: torch.Tensor, e: torch.Tensor, y: torch.Tensor, cfg: FSConfig) -> Moments:
    n, easy = len(x), torch.zeros(cfg.d)
    easy[: cfg.k_e] = 1.0
    onehot = torch.nn.functional.one_hot(y, 2).float()
    a0 = x.T @ x / n
    return Moments(a0=a0, a1=(x.T @ e + e.T @ x) / (2 * n), dq=(e.T @ x + x.T @ e - e.T @ e) / n - cfg.easy_scale**2 * torch.diag(easy),
                   sums=onehot.T @ x, easy_sums=onehot.T @ e, pairs=float((onehot.sum(0) ** 2).sum()),
                   t=a0 + cfg.aug_noise**2 * torch.eye(cfg.d))  # fmt: skip


@dataclass
class FSResult:
    """An FS line: the relevant probe's accuracy (on fresh points) at each value of the axis."""

    config: FSConfig
    values: np.ndarray  # [K] the p (or q) of each point
    accuracy: np.ndarray  # [K]
    lr: float
    seconds: float  # training and probing, one thread

    def to_json(self) -> dict:
        return {"config": dataclasses.asdict(self.config), "values": self.values.tolist(),
                "accuracy": rounded(self.accuracy), "lr": self.lr, "seconds": self.seconds}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict) -> FSResult:
        return cls(
            FSConfig(**d["config"]), np.asarray(d["values"]), np.asarray(d["accuracy"]), d["lr"], d["seconds"]
        )


def _groups(cfg: FSConfig) -> dict[tuple[int, bool], list[tuple[int, float]]]:
    """(padded width, dense) -> the models trained together: similar p, and q > 0 (dense) or not."""
    out = {}
    for p, q in cfg.models():
        width = min(cfg.d, next((w for w in PAD_LADDER if w >= p), p))
        out.setdefault((width, q > 0), []).append((p, q))
    return out


def fs_basis(x: torch.Tensor, cfg: FSConfig) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(t [d], u [d, d], r): T = XᵀX/n + aug_noise² I is diagonal, t, in X's right singular vectors u,
    the r of the training points' span first; outside the span t = aug_noise² exactly [D]."""
    _, s, vh = torch.linalg.svd(x, full_matrices=True)
    r = int((s > s[0] * 1e-6).sum())
    t = torch.full((cfg.d,), cfg.aug_noise**2)
    t[:r] += s[:r] ** 2 / len(x)
    return t, vh.T, r


def _group(cfg: FSConfig, models: list, width: int, w0: torch.Tensor, mom: Moments, t: torch.Tensor,
           u: torch.Tensor, r: int, dense: bool) -> Group:  # fmt: skip
    """The models of one group in T's eigenbasis u (w0: every model's W there, [d, d]). At q = 0,
    C = (1 − α)(T − aug_noise² I) plus the class sums' low-rank part and T₂ = T: a structured group on
    the training points' span (its first r coordinates) only, unless dense is asked for [D]:

    outside the span C = 0 and T = aug_noise² I, so there W only shrinks, from its initial size, by
    (I − 4 lr aug_noise² W T Wᵀ) each step. Leaving those columns at their start changes the span's step
    by at most 4 lr aug_noise² ‖W_out‖² (relative), under 10⁻⁸ at the toy's init 10⁻⁴: float32's
    rounding is larger. With n < d (the n < k_e line) this cuts a step's cost by d / r."""
    cols = cfg.d if dense else r
    start = torch.zeros(len(models), width, cols)
    for i, (p, _) in enumerate(models):
        start[i, :p] = w0[:p, :cols]
    if dense:
        c = torch.stack([u.T @ mom.c(cfg.alpha, q) @ u for _, q in models])
        return Group(start, c, torch.stack([u.T @ mom.t2(q) @ u for _, q in models]))
    sums = (mom.sums @ u[:, :r]).T  # [r, 2]
    low = (cfg.alpha * sums / mom.pairs).expand(len(models), -1, -1), sums.expand(len(models), -1, -1)
    low = low if cfg.alpha > 0 else None  # L_UCL alone: C is diagonal here
    return Group(start, ((1 - cfg.alpha) * (t[:r] - cfg.aug_noise**2)).expand(len(models), -1), low=low)


def _with_outside(w: torch.Tensor, models: list, w0: torch.Tensor) -> torch.Tensor:
    """A group's trained W [m, width, cols] with the columns it did not train (outside the span) at their
    start: [m, width, d]."""
    rest = torch.zeros(*w.shape[:-1], w0.shape[-1] - w.shape[-1])
    for i, (p, _) in enumerate(models):
        rest[i, :p] = w0[:p, w.shape[-1] :]
    return torch.cat([w, rest], -1)


def run_fs(cfg: FSConfig, progress: Callable[[float], None] | None = None,
           should_stop: Callable[[], bool] | None = None) -> FSResult:  # fmt: skip
    """Train every model of the line at once, in T's eigenbasis (so W T is a scaling), then probe each
    (the caller's thread count; the worker and the bench use one thread)."""
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(cfg.seed)
    x, e, y = fs_data(cfg.n, cfg, gen)
    xt, _, yt = fs_data(cfg.n_test, cfg, gen)
    base = small_init(gen, cfg.d, cfg.d, cfg.init)  # every model's W starts with the first p of these rows
    mom = fs_moments(x, e, y, cfg)
    t, u, r = fs_basis(x, cfg)
    w0 = base @ u
    members = _groups(cfg)
    groups = [_group(cfg, ms, width, w0, mom, t, u, r, dense) for (width, dense), ms in members.items()]
    lr = stable_lr(cfg.lr, float(t.max()))
    final, _ = spectral_gd(groups, t, lr, cfg.steps, progress=progress, should_stop=should_stop)
    acc, half, yt = {}, cfg.n_test // 2, yt.float()
    for ms, w in zip(members.values(), final, strict=True):
        f = (xt @ u) @ _with_outside(w, ms, w0).mT  # [m, n_test, width]; zero rows give zero columns
        fit, test = centred_scaled(f[:, :half], f[:, half:])
        scores = logistic_accuracy(
            fit, yt[:half].expand(len(ms), -1), test, yt[half:].expand(len(ms), -1), PROBE_C
        )
        acc |= {m: float(s) for m, s in zip(ms, scores, strict=True)}
    values = [p for p, _ in cfg.models()] if cfg.axis == "p" else list(Q_GRID)
    accuracy = np.asarray([acc[m] for m in cfg.models()])
    return FSResult(cfg, np.asarray(values), accuracy, lr, time.perf_counter() - start)


def stored_fs(cfg: FSConfig, root) -> FSResult | None:
    """The cached FS line of cfg, or None."""
    found = read_cached(root, "fs", cfg)
    return None if found is None else FSResult.from_json(found)


def fs_result(cfg: FSConfig, root, progress=None, should_stop=None) -> FSResult:
    """The FS line of cfg: read from the cache, or trained on one torch thread and stored."""
    return cached_or_run(root, "fs", cfg, run_fs, FSResult.from_json, progress, should_stop)
