"""The contrastive losses of Baptista, Stuart & Tran 2025 on one batch, and their gradients [P].

S is the batch's similarity matrix: S[i, j] = s(u_i, v_j) / τ for the pairs (u_i, v_i) ~ μ, shape [N, N].
Each population expectation becomes a batch mean (the positive included), so, line by line:

    L_cond  = −E_μ[s] + ½ E_v log E_{u'} e^{s(u',v)} + ½ E_u log E_{v'} e^{s(u,v')}      (two-sided)
    L_{u|v} = −E_μ[s] +   E_v log E_{u'} e^{s(u',v)}     (one-sided: the model's u|v is fitted)
    L_{v|u} = −E_μ[s] +   E_u log E_{v'} e^{s(u,v')}     (one-sided: the model's v|u is fitted)
    L_joint = −E_μ[s] +   log E_{μ_u⊗μ_v} e^{s}          (negatives: all N(N − 1) off-diagonal pairs [D])

The CLIP / InfoNCE loss is the two-sided loss plus log N. The joint loss takes every off-diagonal
pair as a negative: a shuffled batch gives N negatives whose weights have infinite variance once a
canonical correlation reaches 2/3 (ALGORITHMS.md section 6). docs/science.md, "Baptista, Stuart &
Tran 2025".

    >>> s = u_feats @ v_feats.T        # [N, N]
    >>> batch_loss(s, "two-sided")     # a scalar tensor
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOSS_NAMES = ("two-sided", "u|v", "v|u", "joint")


def log_mean_exp(s: torch.Tensor, dim: int) -> torch.Tensor:
    """log of the mean of e^s along dim: dim 0 gives, per column j, log E_{u'} e^{s(u', v_j)}."""
    return torch.logsumexp(s, dim) - math.log(s.shape[dim])


def positives(s: torch.Tensor) -> torch.Tensor:
    """E_μ[s]: the mean similarity of the true pairs (the diagonal)."""
    return s.diagonal().mean()


def two_sided_loss(s: torch.Tensor) -> torch.Tensor:
    return -positives(s) + 0.5 * log_mean_exp(s, 0).mean() + 0.5 * log_mean_exp(s, 1).mean()


def u_given_v_loss(s: torch.Tensor) -> torch.Tensor:
    return -positives(s) + log_mean_exp(s, 0).mean()


def v_given_u_loss(s: torch.Tensor) -> torch.Tensor:
    return -positives(s) + log_mean_exp(s, 1).mean()


def joint_loss(s: torch.Tensor) -> torch.Tensor:
    off = s.masked_fill(torch.eye(len(s), dtype=torch.bool), float("-inf"))
    return -positives(s) + torch.logsumexp(off.flatten(), 0) - math.log(len(s) * (len(s) - 1))


def joint_loss_all_pairs(s: torch.Tensor) -> torch.Tensor:
    """The joint loss on the batch's empirical measure (negatives: all N² pairs). Jensen's inequality gives
    two_sided_loss(s) ≤ this for every s."""
    return -positives(s) + torch.logsumexp(s.flatten(), 0) - 2 * math.log(len(s))


def clip_loss(s: torch.Tensor) -> torch.Tensor:
    """CLIP's symmetric cross-entropy (Radford et al. 2021): equals two_sided_loss(s) + log N."""
    target = torch.arange(len(s))
    return 0.5 * (F.cross_entropy(s, target) + F.cross_entropy(s.T, target))


LOSSES = {"two-sided": two_sided_loss, "u|v": u_given_v_loss, "v|u": v_given_u_loss, "joint": joint_loss}


def check_loss_name(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss '{loss}'. Choose one of: {', '.join(LOSSES)}.")


def batch_loss(s: torch.Tensor, loss: str) -> torch.Tensor:
    """One of the four losses on a batch's similarity matrix s [N, N] (N ≥ 2)."""
    check_loss_name(loss)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or len(s) < 2:
        raise ValueError(f"A batch needs at least 2 pairs and a square similarity matrix; got shape {tuple(s.shape)}.")  # fmt: skip
    return LOSSES[loss](s)


@torch.no_grad()
def loss_gradient(s: torch.Tensor, loss: str) -> torch.Tensor:
    """∂L/∂S of batch_loss(s, loss), in closed form [D]: −I/N plus, for each normaliser, its softmax weights
    divided by N (the simulation trains with it, several times faster than autograd on one core; a test
    checks it against autograd). Returns [N, N]."""
    check_loss_name(loss)
    n = len(s)
    e = torch.exp(s - s.max())  # one exponential serves both normalisers
    if loss == "joint":
        e.diagonal().zero_()
        e /= e.sum()
        e.diagonal().sub_(1 / n)
        return e
    weight_u = {"two-sided": 0.5, "u|v": 1.0, "v|u": 0.0}[loss]
    over_u, over_v = e.sum(0), e.sum(1)  # per v: Σ_u' e^{s(u', v)}; per u: Σ_v' e^{s(u, v')}
    if not (over_u.min() > 0 and over_v.min() > 0):  # a whole row or column underflowed (or s held a NaN)
        e = weight_u * torch.softmax(s, 0) + (1 - weight_u) * torch.softmax(s, 1)
    else:
        e *= (weight_u / n) / over_u[None, :] + ((1 - weight_u) / n) / over_v[:, None]
        e.diagonal().sub_(1 / n)
        return e
    e.diagonal().sub_(1)
    return e / n
