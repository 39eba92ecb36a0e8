"""Training linear encoders on Gaussian pairs with each loss, and comparing them with the closed forms.

Baptista, Stuart & Tran 2025 (arXiv 2505.24134), ../shared/spec/ALGORITHMS.md section 6, docs/science.md
"Baptista, Stuart & Tran 2025". The model and losses are [P]; the closed forms and the conditions under
which Adam reaches them (fresh samples each step, N ≥ 512, all off-diagonal pairs as the joint loss's
negatives) are [D]; the error measures and encoder initialisation are [L].

    >>> cfg = SimulationConfig(problem="example", loss="two-sided")
    >>> result = run_simulation(cfg)      # a JSON-ready dict: the learned tilt, its errors, the spectrum
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

from lab.measures.features import torch_threads
from lab.papers.tilting2025 import constants as k
from lab.papers.tilting2025.gaussian import (
    GaussianPair,
    Tilt,
    canonical,
    conditional_errors,
    example_pair,
    low_rank_pair,
    model_conditional,
    model_marginal,
    optimal_tilt,
    shared_rank,
    subspace_angle,
    whitened_spectrum,
)
from lab.papers.tilting2025.losses import batch_loss, check_loss_name, loss_gradient

PROBLEMS = ("example", "low-rank")
SIDES = ("u|v", "v|u")
LOSS_EVERY = 10  # the loss curve keeps every 10th step's loss


@dataclass(frozen=True)
class SimulationConfig:
    """One training of linear encoders on Gaussian pairs. Checked in one place (__post_init__), so the
    page, the CLI and the tests get the same messages. sample_size None: a fresh sample every step."""

    problem: str = "low-rank"  # "example" (the 2-D example, fixed C) or "low-rank"
    d_u: int = k.LOW_RANK["d_u"]
    d_v: int = k.LOW_RANK["d_v"]
    rank: int = k.LOW_RANK["rank"]  # the planted shared rank
    noise: float = k.LOW_RANK["noise"]
    n_e: int = k.LOW_RANK["n_e"]  # the encoders' output dimension: rank of A ≤ n_e
    loss: str = "two-sided"
    tilt: str = "bilinear"
    batch: int = k.BATCH
    sample_size: int | None = None
    steps: int = k.STEPS
    lr: float = k.LR
    seed: int = 0  # the samples and the encoders' initialisation
    problem_seed: int = 0  # P and Q of the low-rank problem

    def __post_init__(self):
        if self.problem not in PROBLEMS:
            raise ValueError(f"Unknown problem '{self.problem}'. Choose one of: {', '.join(PROBLEMS)}.")
        check_loss_name(self.loss)
        if self.tilt not in k.TILTS:
            raise ValueError(f"Unknown tilt '{self.tilt}'. Choose one of: {', '.join(k.TILTS)}.")
        if self.batch < 2:
            raise ValueError(f"The batch needs at least 2 pairs (each needs another pair as its negative); got {self.batch}.")  # fmt: skip
        if self.sample_size is not None and self.sample_size < 2:
            raise ValueError(f"The sample needs at least 2 pairs; got {self.sample_size}.")
        if self.n_e < 1 or self.steps < 1 or not self.lr > 0:
            raise ValueError(f"n_e and steps must be at least 1 and lr above 0; got n_e = {self.n_e}, "
                             f"steps = {self.steps}, lr = {self.lr}.")  # fmt: skip
        if self.problem == "example":  # its own fixed C: one key for every value of the unused fields
            for name, value in (("d_u", 1), ("d_v", 1), ("rank", 1), ("noise", 0.0), ("n_e", 1), ("problem_seed", 0)):  # fmt: skip
                object.__setattr__(self, name, value)
        self.pair()  # rank above the dimensions, or a covariance that is not positive definite: raise now

    def pair(self) -> GaussianPair:
        if self.problem == "example":
            return example_pair()
        return low_rank_pair(self.d_u, self.d_v, self.rank, self.noise, self.problem_seed)

    @property
    def effective_batch(self) -> int:
        return min(self.batch, self.sample_size or self.batch)

    def key(self) -> str:
        """12 hex digits naming the settings (and CACHE_VERSION): the cache file's name."""
        text = json.dumps({"v": k.CACHE_VERSION, **dataclasses.asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------- training
class _Batches:
    """Batches of pairs, float32 [N, d_u + d_v]: fresh from N(0, C) (streaming) or slices of one fixed sample."""

    def __init__(self, cfg: SimulationConfig, pair: GaussianPair, gen: torch.Generator):
        self.n, self.gen, self.chunk = cfg.effective_batch, gen, []
        self.root = torch.linalg.cholesky(torch.tensor(pair.cov, dtype=torch.float64)).float().T
        self.sample = None if cfg.sample_size is None else self._draw(cfg.sample_size)

    def _draw(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.root.shape[0], generator=self.gen) @ self.root

    def next(self) -> torch.Tensor:
        if not self.chunk:  # 32 batches at once: fewer small calls
            if self.sample is None:
                self.chunk = list(self._draw(32 * self.n).split(self.n))
            else:
                perm = torch.randperm(len(self.sample), generator=self.gen)
                self.chunk = [self.sample[i] for i in perm.split(self.n) if len(i) == self.n]
        return self.chunk.pop()


@dataclass
class Trained:
    tilt: Tilt
    losses: list[float]  # every LOSS_EVERY-th step's batch loss
    seconds: float


def _similarity(x: torch.Tensor, d_u: int, p: dict) -> tuple[torch.Tensor, ...]:
    """S[i, j] = (G u_i)ᵀ(H v_j) − ½ u_iᵀB_u u_i − ½ v_jᵀB_v v_j, and the pieces its gradient needs."""
    u, v = x[:, :d_u], x[:, d_u:]
    a, b = u @ p["G"].T, v @ p["H"].T
    s = a @ b.T
    if "B_u" in p:
        s = s - 0.5 * ((u @ p["B_u"]) * u).sum(1)[:, None] - 0.5 * ((v @ p["B_v"]) * v).sum(1)[None, :]
    return s, u, v, a, b


def train_tilt(cfg: SimulationConfig, progress: Callable[[float], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> Trained:  # fmt: skip
    """Adam with a cosine learning rate on the batch loss of cfg.loss, gradients in closed form
    (losses.loss_gradient), one torch thread (a tiny model: see lab.measures.features.torch_threads)."""
    pair, gen = cfg.pair(), torch.Generator().manual_seed(cfg.seed)
    with torch_threads(1):
        start = time.perf_counter()
        batches = _Batches(cfg, pair, gen)
        init = k.INIT_SCALE
        p = {"G": torch.randn(cfg.n_e, pair.d_u, generator=gen) * init / math.sqrt(pair.d_u),
             "H": torch.randn(cfg.n_e, pair.d_v, generator=gen) * init / math.sqrt(pair.d_v)}  # fmt: skip
        if cfg.tilt == "quadratic":
            p |= {"B_u": torch.zeros(pair.d_u, pair.d_u), "B_v": torch.zeros(pair.d_v, pair.d_v)}
        opt = torch.optim.Adam(list(p.values()), lr=cfg.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / cfg.steps))
        )
        losses = []
        for step in range(cfg.steps):
            s, u, v, a, b = _similarity(batches.next(), pair.d_u, p)
            if step % LOSS_EVERY == 0:
                losses.append(float(batch_loss(s, cfg.loss)))
            ds = loss_gradient(s, cfg.loss)  # ∂L/∂S, [N, N]
            # ∂L/∂G = (∂L/∂S H v)ᵀ u; written as bᵀ ∂Sᵀ, a row-major product (5x faster than ∂S b here)
            p["G"].grad, p["H"].grad = (b.T @ ds.T) @ u, (a.T @ ds) @ v
            if "B_u" in p:  # ∂S_ij/∂B_u = −½ u_i u_iᵀ for every j
                p["B_u"].grad = -0.5 * u.T @ (ds.sum(1)[:, None] * u)
                p["B_v"].grad = -0.5 * v.T @ (ds.sum(0)[:, None] * v)
            opt.step()
            sched.step()
            if progress is not None and (step + 1) % 100 == 0:
                progress((step + 1) / cfg.steps)
            if should_stop is not None and step % 100 == 0 and should_stop():
                raise InterruptedError("The simulation was stopped.")
        g, h = p["G"].double().numpy(), p["H"].double().numpy()
        bu, bv = (p["B_u"].double().numpy(), p["B_v"].double().numpy()) if "B_u" in p else (None, None)
        tilt = Tilt.bilinear(g.T @ h) if bu is None else Tilt(g.T @ h, (bu + bu.T) / 2, (bv + bv.T) / 2)
        return Trained(tilt, losses, time.perf_counter() - start)


# ---------------------------------------------------------------- comparing with the closed forms
def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _errors(pair: GaussianPair, t: Tilt | None) -> dict | None:
    if t is None:
        return None
    return {side: dict(zip(("mean", "cov"), map(_finite, conditional_errors(pair, t, side)), strict=True))
            for side in SIDES}  # fmt: skip


def _marginal(pair: GaussianPair, t: Tilt | None) -> float | None:
    c = None if t is None else model_marginal(pair, t, "u")
    return None if c is None else float(np.trace(c) / pair.d_u)


def _example(pair: GaussianPair, t: Tilt) -> dict:
    """The 2-D example's scalars: A, and u|v = N(slope · v, var) under the model."""
    cond = model_conditional(pair, t, "u|v")
    return {"a": float(t.a[0, 0]), "slope": None if cond is None else float(cond.mean[0, 0]),
            "var": None if cond is None else float(cond.cov[0, 0])}  # fmt: skip


def evaluate(cfg: SimulationConfig, trained: Trained) -> dict:
    """The learned tilt beside the truth and the loss's closed-form optimum (None where none is known)."""
    pair, t = cfg.pair(), trained.tilt
    best = optimal_tilt(pair, cfg.n_e, cfg.loss, cfg.tilt)
    rank = min(cfg.n_e, shared_rank(pair))
    learned = whitened_spectrum(pair, t.a)[1][:rank]
    expected = None if best is None else whitened_spectrum(pair, best.a)[1][:rank]
    bias = None if expected is None else float(np.mean(learned / np.maximum(expected, 1e-12) - 1))
    a_error = (
        None if best is None else float(np.linalg.norm(t.a - best.a) / max(np.linalg.norm(best.a), 1e-12))
    )
    out = {
        "config": dataclasses.asdict(cfg), "key": cfg.key(), "seconds": round(trained.seconds, 2),
        "losses": trained.losses, "rank": rank,
        "tilt": {"a": t.a.tolist(), "b_u": t.b_u.tolist(), "b_v": t.b_v.tolist()},
        "errors": _errors(pair, t), "closed_form_errors": _errors(pair, best),
        "angle": subspace_angle(pair, t.a, rank),
        "spectrum": {"true": canonical(pair).sigma[:rank].tolist(), "learned": learned.tolist(),
                     "closed_form": None if expected is None else expected.tolist()},
        "spectrum_bias": bias, "a_error": a_error,
        "marginal_u": _marginal(pair, t), "marginal_u_closed_form": _marginal(pair, best),
        "marginal_u_true": float(np.trace(pair.c_uu) / pair.d_u),
    }  # fmt: skip
    if cfg.problem == "example":
        out["example"] = {
            "trained": _example(pair, t),
            "closed_form": None if best is None else _example(pair, best),
        }
    return out


def run_simulation(cfg: SimulationConfig, progress: Callable[[float], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> dict:  # fmt: skip
    """Train (train_tilt) and compare (evaluate): one JSON-ready result."""
    return evaluate(cfg, train_tilt(cfg, progress, should_stop))
