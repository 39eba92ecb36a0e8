"""SePP's objectives: a semantic partner's view as an extra positive beside the augmented twin.

Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122) [P idea]; the SupCon form, the weight beta and the
VICReg variant are the lab's [L] (spec 1, docs/science.md, "SePP").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lab.core.vicreg import invariance, vicreg_loss


def multi_positive_nt_xent(z1: torch.Tensor, z2: torch.Tensor, zs: torch.Tensor, owner: torch.Tensor,
                           temperature: float = 0.5, beta: float = 1.0) -> torch.Tensor:  # fmt: skip
    """NT-Xent with a semantic positive, in SupCon form [L]: for each of the 2n views a of image i,

        l_a = -( log p(a, twin) + beta * log p(a, s_i) ) / (1 + beta * [i has a partner]),
        p(a, b) = exp(sim(z_a, z_b)/T) / sum_{c != a} exp(sim(z_a, z_c)/T),

    over the 2n views and the m partner views. s_i is a positive of both of i's views, never one of their
    negatives' numerators. Returns the mean over the 2n views; with m = 0 it is NT-Xent.

    z1, z2: [n, d] two views of n images; zs: [m, d] a view of each partner; owner: [m] the image (0..n-1)
    each partner view belongs to (distinct).

    >>> z1, z2, zs = torch.randn(8, 16), torch.randn(8, 16), torch.randn(3, 16)
    >>> loss = multi_positive_nt_xent(z1, z2, zs, torch.tensor([0, 4, 5]))
    """
    n, m = len(z1), len(zs)
    z = F.normalize(torch.cat([z1, z2, zs]).float(), dim=1)
    logits = (z[: 2 * n] @ z.T / temperature).fill_diagonal_(float("-inf"))  # [2n, 2n + m], self removed
    log_p = F.log_softmax(logits, dim=1)
    views = torch.arange(2 * n, device=z.device)
    twin = torch.cat([views[n:], views[:n]])
    semantic = torch.zeros(2 * n, device=z.device)
    has = torch.zeros(2 * n, device=z.device)
    if m:
        s = 2 * n + torch.arange(m, device=z.device)
        for anchors in (owner, owner + n):  # both views of each owner
            semantic[anchors] = log_p[anchors, s]
            has[anchors] = 1.0
    return (-(log_p[views, twin] + beta * semantic) / (1 + beta * has)).mean()


def sepp_vicreg_loss(y1: torch.Tensor, y2: torch.Tensor, ys: torch.Tensor, owner: torch.Tensor,
                     beta: float = 1.0) -> torch.Tensor:  # fmt: skip
    """VICReg with a semantic invariance [L]: inv = (1 - w) inv(y1, y2) + w inv(y1[owner], ys), w = beta /
    (1 + beta), as SAG-VICReg mixes its walk positives; variance and covariance on y1, y2 unchanged. With
    no partner view (m = 0) it is VICReg. y1, y2: [n, d]; ys: [m, d]; owner: [m]."""
    if len(ys) == 0:
        return vicreg_loss(y1, y2)
    w = beta / (1 + beta)
    return vicreg_loss(y1, y2, inv=(1 - w) * invariance(y1, y2) + w * invariance(y1[owner], ys))
