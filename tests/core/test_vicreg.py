"""VICReg (lab.core.vicreg): each term against a hand computation, the whole loss against the official
formula (facebookresearch/vicreg, main_vicreg.py, written out below), and the expander's shape."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lab.core.vicreg import covariance, expander, invariance, off_diagonal, variance, vicreg_loss


def official_vicreg(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The official code's forward (main_vicreg.py, VICReg.forward), coefficients 25 / 25 / 1."""
    batch_size, num_features = x.shape
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + 0.0001)
    std_y = torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (batch_size - 1)
    cov_y = (y.T @ y) / (batch_size - 1)
    cov_loss = off_diagonal(cov_x).pow_(2).sum().div(num_features) + off_diagonal(cov_y).pow_(2).sum().div(
        num_features
    )
    return 25.0 * repr_loss + 25.0 * std_loss + 1.0 * cov_loss


def test_invariance_is_the_mean_squared_difference_divided_by_d():
    y1, y2 = torch.tensor([[0.0, 0.0], [2.0, 2.0]]), torch.tensor([[1.0, 0.0], [2.0, 2.0]])
    assert invariance(y1, y2).item() == pytest.approx(1.0 / 4)  # one squared unit over n * d = 4 entries


def test_variance_and_covariance_of_two_points_by_hand():
    y = torch.tensor([[0.0, 0.0], [1.0, 0.5]])
    # column variances (1/(n-1)) 0.5 and 0.125; hinge on the standard deviation with eps 1e-4
    expected_var = ((1 - (0.5 + 1e-4) ** 0.5) + (1 - (0.125 + 1e-4) ** 0.5)) / 2
    assert variance(y).item() == pytest.approx(expected_var, rel=1e-6)
    # covariance [[0.5, 0.25], [0.25, 0.125]]: off-diagonal squares 2 x 0.0625, divided by d = 2
    assert covariance(y).item() == pytest.approx(0.0625)


def test_variance_is_zero_once_every_column_has_unit_spread():
    y = torch.randn(4096, 8) * 3
    assert variance(y).item() == 0.0


def test_the_loss_equals_the_official_formula_on_random_inputs():
    torch.manual_seed(0)
    for n, d in ((8, 4), (64, 32), (256, 128)):
        y1, y2 = torch.randn(n, d) * 0.7, torch.randn(n, d) * 0.7
        assert vicreg_loss(y1, y2).item() == pytest.approx(official_vicreg(y1, y2).item(), rel=1e-5)


def test_a_given_invariance_term_replaces_the_two_view_one():
    y1, y2 = torch.randn(16, 8), torch.randn(16, 8)
    diff = vicreg_loss(y1, y2, inv=torch.tensor(0.0)) - vicreg_loss(y1, y2)
    assert diff.item() == pytest.approx(-25.0 * invariance(y1, y2).item(), rel=1e-5)


def test_the_expander_has_three_layers_and_outputs_the_embedding_size():
    head = expander(128, 64)
    assert sum(isinstance(m, torch.nn.Linear) for m in head) == 3
    assert head(torch.randn(10, 128)).shape == (10, 64)
