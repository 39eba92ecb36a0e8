"""Two identities of Baptista, Stuart & Tran 2025, checked numerically [P statements, L checks].

1. L_cond ≤ L_joint for every pair of encoders (Jensen: E_v log E_u e^s ≤ log E_v E_u e^s), checked on
   random nonlinear encoders over the empirical measure of a sample, where it must hold exactly.
2. The batch CLIP / InfoNCE loss is L_cond + log N up to sampling error, checked against L_cond's closed
   form for a Gaussian pair and a random bilinear tilt (gaussian.population_conditional_loss).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from lab.measures.features import torch_threads
from lab.papers.tilting2025.gaussian import GaussianPair, population_conditional_loss
from lab.papers.tilting2025.losses import clip_loss, joint_loss_all_pairs, two_sided_loss


def random_encoder(d_in: int, n_e: int, gen: torch.Generator) -> nn.Module:
    """A random two-layer tanh MLP d_in -> n_e; every weight and bias drawn from gen, N(0, 1 / its row length)."""
    net = nn.Sequential(nn.Linear(d_in, 16), nn.Tanh(), nn.Linear(16, n_e))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[-1]))
    return net


@torch.no_grad()
@torch_threads(1)
def conditional_vs_joint(n_encoders: int = 100, n: int = 256, seed: int = 0) -> dict:
    """L_cond and L_joint of n_encoders random encoder pairs on samples of n correlated pairs (the
    expectations over the sample's empirical measure). Returns the gaps L_joint − L_cond (all ≥ 0 in theory)."""
    gen = torch.Generator().manual_seed(seed)
    gaps = []
    for _ in range(n_encoders):  # about 1 ms each
        u = torch.randn(n, 4, generator=gen)
        v = u[:, :3] + torch.randn(n, 3, generator=gen)
        s = random_encoder(4, 8, gen)(u) @ random_encoder(3, 8, gen)(v).T
        gaps.append(float(joint_loss_all_pairs(s) - two_sided_loss(s)))
    return {"n_encoders": n_encoders, "n": n, "min_gap": min(gaps), "mean_gap": float(np.mean(gaps)),
            "held": int(sum(g >= -1e-5 for g in gaps))}  # fmt: skip


@torch.no_grad()
@torch_threads(1)
def clip_vs_conditional(
    pair: GaussianPair, a: np.ndarray, n: int = 2048, batches: int = 20, seed: int = 0
) -> dict:
    """The batch CLIP loss minus log N on `batches` fresh batches of n pairs from μ, against the
    population L_cond(A) (closed form). Returns the mean and standard deviation of the difference."""
    gen = torch.Generator().manual_seed(seed)
    root = torch.linalg.cholesky(torch.tensor(pair.cov)).T
    a_t = torch.tensor(a)
    exact = population_conditional_loss(pair, a)
    diffs = []
    for _ in range(batches):
        x = torch.randn(n, pair.cov.shape[0], generator=gen, dtype=torch.float64) @ root
        s = x[:, : pair.d_u] @ a_t @ x[:, pair.d_u :].T
        diffs.append(float(clip_loss(s)) - math.log(n) - exact)
    return {"n": n, "batches": batches, "population": exact, "mean_difference": float(np.mean(diffs)),
            "sd_difference": float(np.std(diffs, ddof=1))}  # fmt: skip
