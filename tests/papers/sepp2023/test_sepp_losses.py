"""SePP's losses: without partners they are NT-Xent and VICReg; a partner's term by hand."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lab.core.losses import nt_xent
from lab.core.vicreg import invariance, vicreg_loss
from lab.papers.sepp2023.losses import multi_positive_nt_xent, sepp_vicreg_loss


def test_with_no_partner_views_it_is_nt_xent():
    torch.manual_seed(0)
    z1, z2 = torch.randn(16, 8), torch.randn(16, 8)
    empty = torch.zeros(0, 8)
    got = multi_positive_nt_xent(z1, z2, empty, torch.zeros(0, dtype=torch.long), 0.5)
    assert got.item() == pytest.approx(nt_xent(z1, z2, 0.5).item(), rel=1e-6)


def test_a_partner_view_is_a_second_positive_of_both_views_by_hand():
    torch.manual_seed(1)
    z1, z2, zs = torch.randn(3, 4), torch.randn(3, 4), torch.randn(1, 4)
    owner, t, beta = torch.tensor([1]), 0.5, 1.0
    z = F.normalize(torch.cat([z1, z2, zs]), dim=1)
    sim = z @ z.T / t
    total = 0.0
    for a in range(6):
        others = [c for c in range(7) if c != a]
        log_p = lambda b, a=a, others=others: sim[a, b] - torch.logsumexp(sim[a, others], 0)  # noqa: E731
        twin = (a + 3) % 6
        if a in (1, 4):  # both views of image 1 own the partner view (row 6)
            total += -(log_p(twin) + beta * log_p(6)) / 2
        else:
            total += -log_p(twin)
    got = multi_positive_nt_xent(z1, z2, zs, owner, t, beta)
    assert got.item() == pytest.approx((total / 6).item(), rel=1e-5)


def test_beta_zero_leaves_only_the_twin_but_the_partner_stays_in_the_denominator():
    z1, z2, zs = torch.randn(4, 4), torch.randn(4, 4), torch.randn(2, 4)
    got = multi_positive_nt_xent(z1, z2, zs, torch.tensor([0, 2]), 0.5, beta=0.0)
    assert got.item() > 0 and torch.isfinite(got)


def test_sepp_vicreg_without_partners_is_vicreg_and_mixes_the_invariance_with_them():
    torch.manual_seed(2)
    y1, y2, ys = torch.randn(8, 6), torch.randn(8, 6), torch.randn(3, 6)
    assert torch.equal(
        sepp_vicreg_loss(y1, y2, ys[:0], torch.zeros(0, dtype=torch.long)), vicreg_loss(y1, y2)
    )
    owner = torch.tensor([0, 3, 5])
    mixed = 0.5 * invariance(y1, y2) + 0.5 * invariance(y1[owner], ys)
    assert sepp_vicreg_loss(y1, y2, ys, owner, beta=1.0).item() == pytest.approx(
        vicreg_loss(y1, y2, inv=mixed).item(), rel=1e-6
    )
