"""The closed forms of lab.papers.tilting2025.gaussian against the spec's unit-test values (ALGORITHMS.md
section 6, confirmed there by quadrature) and against the population losses they minimise."""

from __future__ import annotations

import numpy as np
import pytest

from lab.papers.tilting2025 import constants as k
from lab.papers.tilting2025.gaussian import (
    Tilt,
    canonical,
    conditional_errors,
    example_pair,
    low_rank_pair,
    model_conditional,
    model_marginal,
    optimal_tilt,
    population_conditional_loss,
    population_joint_loss,
    shared_rank,
    shrinkage,
    subspace_angle,
    true_conditional,
    whitened_spectrum,
)


def test_the_example_has_canonical_correlation_two_thirds_and_h_of_it_is_one_half():
    assert canonical(example_pair()).sigma == pytest.approx([2 / 3])
    assert float(shrinkage(2 / 3)) == pytest.approx(0.5)
    assert float(shrinkage(0.0)) == 0.0


def test_two_sided_bilinear_matches_the_means_with_the_marginal_spread():
    pair = example_pair()
    t = optimal_tilt(pair, 1, "two-sided", "bilinear")
    assert t.a[0, 0] == pytest.approx(k.EXAMPLE_A_TWO_SIDED)
    cond = model_conditional(pair, t, "u|v")
    assert cond.mean[0, 0] == pytest.approx(2 / 3) and cond.cov[0, 0] == pytest.approx(1.5)
    assert model_marginal(pair, t)[0, 0] == pytest.approx(k.EXAMPLE_MARGINAL_TWO_SIDED)


def test_joint_bilinear_shrinks_the_mean():
    pair = example_pair()
    t = optimal_tilt(pair, 1, "joint", "bilinear")
    assert t.a[0, 0] == pytest.approx(k.EXAMPLE_A_JOINT)
    cond = model_conditional(pair, t, "u|v")
    assert cond.mean[0, 0] == pytest.approx(0.5) and cond.cov[0, 0] == pytest.approx(1.5)
    assert model_marginal(pair, t)[0, 0] == pytest.approx(k.EXAMPLE_MARGINAL_JOINT)


def test_the_truth_and_the_quadratic_tilt_agree_exactly():
    pair = example_pair()
    truth = true_conditional(pair, "u|v")
    assert truth.mean[0, 0] == pytest.approx(k.EXAMPLE_TRUE_SLOPE) and truth.cov[0, 0] == pytest.approx(
        k.EXAMPLE_TRUE_VAR
    )
    for loss in ("u|v", "two-sided", "joint"):
        assert conditional_errors(pair, optimal_tilt(pair, 1, loss, "quadratic"), "u|v") == pytest.approx(
            (0, 0), abs=1e-12
        )
    # the v|u loss never fits u|v: its B_u stays at 0, so u|v keeps the marginal's spread
    assert model_conditional(pair, optimal_tilt(pair, 1, "v|u", "quadratic"), "u|v").cov[
        0, 0
    ] == pytest.approx(1.5)


@pytest.mark.parametrize("n_e", [1, 2, 3, 4])
def test_the_closed_forms_minimise_the_population_losses_among_rank_n_e_tilts(n_e):
    pair = low_rank_pair(6, 4, 3, 0.8, seed=1)
    rng = np.random.default_rng(0)
    for loss, fn in (("two-sided", population_conditional_loss), ("joint", population_joint_loss)):
        best = optimal_tilt(pair, n_e, loss, "bilinear").a
        assert np.linalg.matrix_rank(best, tol=1e-9) == min(n_e, 3)
        u, s, vt = np.linalg.svd(best)
        g, h = (u[:, :n_e] * np.sqrt(s[:n_e])).T, np.sqrt(s[:n_e])[:, None] * vt[:n_e]  # best = gᵀh
        for _ in range(20):  # perturbed encoders G, H of n_e rows: never lower
            dg, dh = 0.05 * rng.normal(size=g.shape), 0.05 * rng.normal(size=h.shape)
            assert fn(pair, (g + dg).T @ (h + dh)) >= fn(pair, best) - 1e-12


def test_every_optimum_shares_the_canonical_directions_with_its_own_spectrum():
    pair = low_rank_pair(12, 5, 3, 1.0)
    sigma = canonical(pair).sigma[:3]
    for loss, tilt, expected in (("two-sided", "bilinear", sigma), ("joint", "bilinear", shrinkage(sigma)),
                                 ("two-sided", "quadratic", sigma / (1 - sigma**2))):  # fmt: skip
        t = optimal_tilt(pair, 3, loss, tilt)
        assert whitened_spectrum(pair, t.a)[1][:3] == pytest.approx(expected)
        assert subspace_angle(pair, t.a, 3) == pytest.approx(0.0, abs=1e-5)


def test_too_small_an_encoder_has_a_mean_error_and_no_quadratic_closed_form():
    pair = low_rank_pair(12, 5, 3, 1.0)
    assert shared_rank(pair) == 3
    errors = [
        conditional_errors(pair, optimal_tilt(pair, n, "two-sided", "bilinear"))[0] for n in (1, 2, 3, 4)
    ]
    assert (
        errors[0] > errors[1] > errors[2]
        and errors[2] == pytest.approx(0, abs=1e-9)
        and errors[3] == pytest.approx(0, abs=1e-9)
    )
    assert optimal_tilt(pair, 2, "u|v", "quadratic") is None


def test_a_model_without_a_proper_conditional_says_so():
    pair = example_pair()
    broken = Tilt(np.array([[0.1]]), np.array([[-5.0]]), np.zeros((1, 1)))
    assert model_conditional(pair, broken, "u|v") is None and model_marginal(pair, broken) is None
    assert conditional_errors(pair, broken, "u|v") == (float("inf"), float("inf"))
    assert population_joint_loss(pair, np.array([[2.0]])) == float("inf")


@pytest.mark.parametrize(("args", "says"), [((5, 4, 6, 1.0), "cannot exceed the dimensions"),
                                            ((5, 4, 2, 0.0), "not positive definite"),
                                            ((5, 4, 2, -1.0), "at least 0")])  # fmt: skip
def test_bad_problems_are_refused_with_a_clear_message(args, says):
    with pytest.raises(ValueError, match=says):
        low_rank_pair(*args)
