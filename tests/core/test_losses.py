"""Losses against hand-computed values, the published formulas, and their invariants."""

import math

import pytest
import torch
import torch.nn.functional as F

from lab.core.losses import cross_entropy, joint_contrastive, nt_xent, supcon


def reference_nt_xent(z1, z2, t):
    """Chen et al. 2020, eq. 1, written as loops over anchors (an independent implementation)."""
    z = F.normalize(torch.cat([z1, z2]), dim=1).double()
    n2 = len(z)
    total = 0.0
    for i in range(n2):
        twin = (i + n2 // 2) % n2
        den = sum(math.exp(float(z[i] @ z[k]) / t) for k in range(n2) if k != i)
        total += -math.log(math.exp(float(z[i] @ z[twin]) / t) / den)
    return total / n2


def reference_supcon(z, labels, t):
    """Khosla et al. 2020, eq. 2 (L_out), loops over anchors and positives."""
    n, v, _ = z.shape
    flat = F.normalize(z.transpose(0, 1).reshape(n * v, -1), dim=1).double()
    y = labels.repeat(v).tolist()
    total = 0.0
    for i in range(n * v):
        den = sum(math.exp(float(flat[i] @ flat[k]) / t) for k in range(n * v) if k != i)
        pos = [p for p in range(n * v) if p != i and y[p] == y[i]]
        total += -sum(math.log(math.exp(float(flat[i] @ flat[p]) / t) / den) for p in pos) / len(pos)
    return total / (n * v)


def test_nt_xent_matches_hand_computed_value_on_two_pairs():
    # Views: pair 0 = (e1, e1), pair 1 = (e2, e2); twins have cosine 1, all others 0.
    # Each anchor: -log(e^{1/T} / (e^{1/T} + 2 e^{0})) with T = 0.5.
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    z1, z2 = torch.stack([e1, e2]), torch.stack([e1, e2])
    expected = -math.log(math.exp(2.0) / (math.exp(2.0) + 2.0))
    assert nt_xent(z1, z2, 0.5).item() == pytest.approx(expected, abs=1e-6)


def test_nt_xent_agrees_with_the_published_formula_on_random_inputs():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    for t in (0.1, 0.5, 1.0):
        assert nt_xent(z1, z2, t).item() == pytest.approx(reference_nt_xent(z1, z2, t), abs=1e-5)


def test_nt_xent_is_symmetric_in_its_views_and_invariant_to_rescaling():
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(8, 16, generator=g), torch.randn(8, 16, generator=g)
    loss = nt_xent(z1, z2, 0.2)
    assert nt_xent(z2, z1, 0.2).item() == pytest.approx(loss.item(), abs=1e-6)
    assert nt_xent(3.7 * z1, 0.01 * z2, 0.2).item() == pytest.approx(loss.item(), abs=1e-5)


def test_nt_xent_reaches_its_known_minimum_on_aligned_orthogonal_pairs():
    # Twins identical, every other pair orthogonal: l = log(1 + (2N - 2) e^{-1/T}).
    n, t = 5, 0.2
    z = torch.eye(n)
    assert nt_xent(z, z.clone(), t).item() == pytest.approx(
        math.log(1 + (2 * n - 2) * math.exp(-1 / t)), abs=1e-6
    )
    # and misaligned views cost more
    assert nt_xent(z, z.roll(1, 0), t).item() > nt_xent(z, z, t).item() + 1


def test_supcon_with_distinct_labels_equals_instance_loss():
    g = torch.Generator().manual_seed(2)
    z1, z2 = torch.randn(7, 4, generator=g), torch.randn(7, 4, generator=g)
    labels = torch.arange(7)
    assert supcon(torch.stack([z1, z2], 1), labels, 0.3).item() == pytest.approx(
        nt_xent(z1, z2, 0.3).item(), abs=1e-6
    )


def test_supcon_agrees_with_the_published_formula_with_shared_labels():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(6, 3, 4, generator=g)  # three views
    labels = torch.tensor([0, 1, 0, 2, 1, 0])
    assert supcon(z, labels, 0.5).item() == pytest.approx(reference_supcon(z, labels, 0.5), abs=1e-5)


def test_supcon_is_lowest_when_classes_collapse_to_points():
    labels = torch.tensor([0, 0, 1, 1])
    collapsed = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]]).unsqueeze(1).repeat(1, 2, 1)
    spread = torch.tensor([[1.0, 0], [0.6, 0.8], [0, 1], [0.8, 0.6]]).unsqueeze(1).repeat(1, 2, 1)
    assert supcon(collapsed, labels, 0.5) < supcon(spread, labels, 0.5)


def test_joint_loss_interpolates_between_simclr_and_supcon():
    g = torch.Generator().manual_seed(4)
    z1, z2 = torch.randn(8, 6, generator=g), torch.randn(8, 6, generator=g)
    y = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    simclr, sup = nt_xent(z1, z2, 0.5).item(), supcon(torch.stack([z1, z2], 1), y, 0.5).item()
    assert joint_contrastive(z1, z2, y, 0.5, alpha=0.0).item() == pytest.approx(simclr, abs=1e-6)
    assert joint_contrastive(z1, z2, y, 0.5, alpha=1.0).item() == pytest.approx(sup, abs=1e-6)
    assert joint_contrastive(z1, z2, y, 0.5, alpha=0.3).item() == pytest.approx(
        0.3 * sup + 0.7 * simclr, abs=1e-5
    )


def test_cross_entropy_of_uniform_logits_is_log_of_class_count():
    logits = torch.zeros(4, 10)
    assert cross_entropy(logits, torch.tensor([0, 3, 5, 9])).item() == pytest.approx(math.log(10), abs=1e-6)
