"""Training objectives, one pure function each; definitions in docs/science.md, "Objectives".

All take projector outputs (unnormalised; each function normalises where the paper does).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _masked_logits(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """Cosine similarities / T with the diagonal (self-pairs) removed. z: [M, d] -> [M, M]."""
    z = F.normalize(z, dim=1)
    logits = z @ z.T / temperature
    return logits.masked_fill(torch.eye(len(z), dtype=torch.bool, device=z.device), float("-inf"))


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """NT-Xent, the SimCLR loss [P] (Chen, Kornblith, Norouzi & Hinton 2020, eq. 1).

    z1, z2: [N, d], two views of the same N images (row i of z1 pairs with row i of z2).
    For each of the 2N views i with twin i+:
        l_i = -log( exp(sim(z_i, z_i+)/T) / sum_{k != i} exp(sim(z_i, z_k)/T) )
    Returns the mean over all 2N anchors (a scalar).

    >>> z1, z2 = torch.randn(8, 16), torch.randn(8, 16)
    >>> loss = nt_xent(z1, z2, temperature=0.5)
    """
    n = len(z1)
    logits = _masked_logits(torch.cat([z1, z2]), temperature)  # [2N, 2N]
    twin = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z1.device)
    return F.cross_entropy(logits.float(), twin)


def supcon(z: torch.Tensor, labels: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """Supervised contrastive loss, the L_out form [P] (Khosla et al. 2020, eq. 2).

    z: [N, V, d], V views of N images; labels: [N] integer classes.
    P(i) = every other view in the batch with i's label (its own other views included):
        l_i = -(1/|P(i)|) sum_{p in P(i)} log( exp(sim(z_i,z_p)/T) / sum_{k != i} exp(sim(z_i,z_k)/T) )
    Returns the mean over the N*V anchors. With every label distinct and V=2 it equals nt_xent.

    >>> z, y = torch.randn(8, 2, 16), torch.randint(0, 3, (8,))
    >>> loss = supcon(z, y, temperature=0.5)
    """
    n, v, d = z.shape
    flat = z.transpose(0, 1).reshape(v * n, d)  # view-major: row a*N + i is view a of image i
    y = labels.repeat(v)
    log_prob = F.log_softmax(_masked_logits(flat, temperature).float(), dim=1)
    positive = (y[:, None] == y[None, :]) & ~torch.eye(v * n, dtype=torch.bool, device=z.device)
    # -inf on the diagonal never meets a positive; zero it so 0 * -inf does not poison the sum
    log_prob = log_prob.masked_fill(~positive, 0.0)
    return -(log_prob.sum(1) / positive.sum(1).clamp(min=1)).mean()


def joint_contrastive(
    z1: torch.Tensor, z2: torch.Tensor, labels: torch.Tensor, temperature: float = 0.5, alpha: float = 0.5
) -> torch.Tensor:
    """Joint loss [P; weighting form L] (Xue, Joshi, Gan, Chen & Mirzasoleiman, ICML 2023):
    alpha * SupCon + (1 - alpha) * SimCLR on the same batch and views, which avoids both class
    collapse (pure SupCon) and feature suppression (pure SimCLR). alpha=1 is SupCon, 0 is SimCLR.

    z1, z2: [N, d]; labels: [N]. Returns a scalar.
    """
    loss = 0.0
    if alpha > 0:
        loss = loss + alpha * supcon(torch.stack([z1, z2], dim=1), labels, temperature)
    if alpha < 1:
        loss = loss + (1 - alpha) * nt_xent(z1, z2, temperature)
    return loss


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.1) -> torch.Tensor:
    """Supervised baseline [P]: cross-entropy of a linear head on h with label smoothing 0.1
    (Zhang, Lu & Xuan 2023's supervised setting). logits: [N, C]; labels: [N]."""
    return F.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing)
