"""The batch losses of lab.papers.tilting2025.losses: their closed-form gradients, CLIP = L_cond + log N,
and L_cond ≤ L_joint on random encoders (the paper's statements, checked numerically)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lab.papers.tilting2025.gaussian import example_pair, low_rank_pair, optimal_tilt
from lab.papers.tilting2025.identities import clip_vs_conditional, conditional_vs_joint
from lab.papers.tilting2025.losses import (
    LOSS_NAMES,
    batch_loss,
    clip_loss,
    joint_loss,
    joint_loss_all_pairs,
    loss_gradient,
    two_sided_loss,
)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_the_closed_form_gradient_equals_autograd(loss):
    s = (
        2 * torch.randn(64, 64, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ).requires_grad_()
    batch_loss(s, loss).backward()
    assert torch.allclose(loss_gradient(s.detach(), loss), s.grad, atol=1e-12)


def test_clip_is_the_two_sided_loss_plus_log_n_on_any_batch():
    s = torch.randn(100, 100, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert float(clip_loss(s)) == pytest.approx(float(two_sided_loss(s)) + math.log(100), abs=1e-12)


def test_the_conditional_loss_never_exceeds_the_joint_loss_on_random_encoders():
    check = conditional_vs_joint(n_encoders=50, n=128, seed=3)
    assert check["held"] == 50 and check["min_gap"] >= 0


def test_off_diagonal_negatives_differ_from_all_pairs_only_by_the_positives():
    s = torch.zeros(8, 8)
    assert float(joint_loss(s)) == pytest.approx(0.0, abs=1e-6) and float(
        joint_loss_all_pairs(s)
    ) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.0])
def test_the_batch_clip_loss_is_the_population_conditional_loss_plus_log_n(scale):
    pair = example_pair()
    a = scale * optimal_tilt(pair, 1, "two-sided", "bilinear").a
    check = clip_vs_conditional(pair, a, n=2048, batches=8, seed=int(10 * scale))
    assert abs(check["mean_difference"]) < 0.01  # sampling error: sd about 0.007 per batch of 2,048


def test_the_identity_holds_in_higher_dimensions_too():
    pair = low_rank_pair(12, 5, 3, 1.0)
    check = clip_vs_conditional(pair, optimal_tilt(pair, 3, "two-sided", "bilinear").a, n=2048, batches=8)
    assert abs(check["mean_difference"]) < 0.02


def test_a_batch_below_two_or_an_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        batch_loss(torch.zeros(1, 1), "two-sided")
    with pytest.raises(
        ValueError, match="Unknown loss 'clip'. Choose one of: two-sided, u\\|v, v\\|u, joint."
    ):
        batch_loss(torch.zeros(4, 4), "clip")
    assert np.isfinite(float(batch_loss(torch.zeros(2, 2), "joint")))
