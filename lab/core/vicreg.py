"""VICReg's loss and expander, shared by the methods built on it (vicreg, sag-vicreg, sepp-vicreg).

Bardes, Ponce & LeCun 2022, "VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised
Learning" (arXiv 2105.04906), as the official code (facebookresearch/vicreg, main_vicreg.py) computes
it [P]; docs/science.md, "Objectives". Two papers build on it (lab.papers.sag2025, lab.papers.sepp2023)
and a paper never imports another, so the shared loss lives here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

INV_WEIGHT, VAR_WEIGHT, COV_WEIGHT = 25.0, 25.0, 1.0  # the published coefficients λ, μ, ν [P]
VAR_EPS = 1e-4  # inside the square root of the variance term [P]
EXPANDER_WIDTH = 512  # hidden width of the 3-layer expander; the paper's is 8,192 [L: sized for a CPU]


def expander(features: int, p: int) -> nn.Sequential:
    """VICReg's 3-layer expander [P layout, L width]: Linear-BN-ReLU, Linear-BN-ReLU, Linear (no bias),
    EXPANDER_WIDTH wide, p = the run's embedding size outputs (the official code: 8192-8192-8192)."""
    w = EXPANDER_WIDTH
    return nn.Sequential(
        nn.Linear(features, w), nn.BatchNorm1d(w), nn.ReLU(inplace=True),
        nn.Linear(w, w), nn.BatchNorm1d(w), nn.ReLU(inplace=True),
        nn.Linear(w, p, bias=False),
    )  # fmt: skip


def off_diagonal(m: torch.Tensor) -> torch.Tensor:
    """The off-diagonal entries of a square matrix [d, d] as a flat vector [d * (d - 1)]."""
    d = m.shape[0]
    return m.flatten()[:-1].view(d - 1, d + 1)[:, 1:].flatten()


def invariance(y1: torch.Tensor, y2: torch.Tensor) -> torch.Tensor:
    """mean_i ||y1_i - y2_i||^2 / d [P] (the official F.mse_loss). y1, y2: [n, d]."""
    return F.mse_loss(y1.float(), y2.float())


def variance(y: torch.Tensor) -> torch.Tensor:
    """mean_j relu(1 - sqrt(Var(y^j) + 1e-4)) over the d columns [P]; Var unbiased (1/(n-1)). y: [n, d]."""
    std = torch.sqrt(y.float().var(dim=0) + VAR_EPS)
    return F.relu(1 - std).mean()


def covariance(y: torch.Tensor) -> torch.Tensor:
    """sum_{p != q} C_pq^2 / d, C the covariance (1/(n-1)) of the centred y [P]. y: [n, d]."""
    y = y.float()
    n, d = y.shape
    y = y - y.mean(dim=0)
    c = (y.T @ y) / (n - 1)
    return off_diagonal(c).pow(2).sum() / d


def vicreg_loss(y1: torch.Tensor, y2: torch.Tensor, inv: torch.Tensor | None = None) -> torch.Tensor:
    """VICReg [P]: 25 inv + 25 (var(Y) + var(Y')) / 2 + 1 (cov(Y) + cov(Y')).

    y1, y2: [n, d] expander outputs of two views of the same n images. inv: an invariance term that
    replaces invariance(y1, y2) (SAG-VICReg's and SePP-VICReg's mixed term); None: VICReg's own.

    >>> y1, y2 = torch.randn(64, 32), torch.randn(64, 32)
    >>> loss = vicreg_loss(y1, y2)
    """
    inv = invariance(y1, y2) if inv is None else inv
    var = (variance(y1) + variance(y2)) / 2
    cov = covariance(y1) + covariance(y2)
    return INV_WEIGHT * inv + VAR_WEIGHT * var + COV_WEIGHT * cov
