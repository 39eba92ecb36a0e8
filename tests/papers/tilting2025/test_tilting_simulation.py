"""lab.papers.tilting2025.simulation: settings checked in one place, training that reaches the spec's 2-D
values within 2 % under the spec's conditions (streaming samples, N = 512, all off-diagonal pairs as the
joint loss's negatives), and the result's comparison with the closed forms."""

from __future__ import annotations

import dataclasses

import pytest

from lab.papers.tilting2025 import constants as k
from lab.papers.tilting2025.simulation import SimulationConfig, evaluate, run_simulation, train_tilt


@pytest.mark.parametrize(("change", "says"), [
    ({"batch": 1}, "at least 2 pairs"),
    ({"rank": 6}, "cannot exceed the dimensions"),
    ({"noise": 0.0}, "not positive definite"),
    ({"loss": "clip"}, "Unknown loss 'clip'"),
    ({"tilt": "cubic"}, "Unknown tilt 'cubic'"),
    ({"sample_size": 1}, "at least 2 pairs"),
])  # fmt: skip
def test_bad_settings_are_refused_before_anything_trains(change, says):
    with pytest.raises(ValueError, match=says):
        SimulationConfig(**change)


def test_the_key_names_the_settings_and_the_example_ignores_the_low_rank_sliders():
    assert SimulationConfig().key() == SimulationConfig().key() != SimulationConfig(batch=256).key()
    assert (
        SimulationConfig(problem="example", d_u=7, rank=2).key() == SimulationConfig(problem="example").key()
    )


def test_a_short_training_lands_near_the_closed_form():
    r = run_simulation(SimulationConfig(problem="example", steps=300))
    assert r["example"]["trained"]["a"] == pytest.approx(k.EXAMPLE_A_TWO_SIDED, rel=0.1)
    assert r["example"]["closed_form"]["a"] == pytest.approx(k.EXAMPLE_A_TWO_SIDED)
    assert (
        len(r["losses"]) == 30 and r["errors"]["u|v"]["cov"] > 0.5
    )  # bilinear: the spread is the marginal's


def test_a_fixed_sample_smaller_than_the_batch_trains_on_the_whole_sample():
    cfg = SimulationConfig(problem="example", sample_size=64, steps=50)
    assert cfg.effective_batch == 64
    assert len(train_tilt(cfg).losses) == 5


def test_evaluate_of_the_closed_form_itself_reports_no_error():
    from lab.papers.tilting2025.gaussian import optimal_tilt
    from lab.papers.tilting2025.simulation import Trained

    cfg = SimulationConfig(n_e=3)
    r = evaluate(cfg, Trained(optimal_tilt(cfg.pair(), 3, cfg.loss, cfg.tilt), [0.0], 0.0))
    assert r["angle"] == pytest.approx(0, abs=1e-4) and r["a_error"] == pytest.approx(0, abs=1e-9)
    assert r["errors"]["u|v"]["mean"] == pytest.approx(0, abs=1e-9) and r["spectrum_bias"] == pytest.approx(
        0, abs=1e-9
    )


TWO_D = SimulationConfig(
    problem="example", batch=512, steps=k.STEPS
)  # streaming, N = 512: the spec's conditions


@pytest.mark.trains
def test_two_sided_bilinear_reaches_a_star_four_ninths_and_marginal_variance_2_7():
    r = run_simulation(TWO_D)
    assert r["example"]["trained"]["a"] == pytest.approx(k.EXAMPLE_A_TWO_SIDED, rel=k.EXAMPLE_TOLERANCE)
    assert r["marginal_u"] == pytest.approx(k.EXAMPLE_MARGINAL_TWO_SIDED, rel=k.EXAMPLE_TOLERANCE)
    assert r["seconds"] < 30


@pytest.mark.trains
def test_joint_bilinear_with_all_off_diagonal_negatives_reaches_a_star_one_third_and_marginal_2():
    r = run_simulation(dataclasses.replace(TWO_D, loss="joint"))
    assert r["example"]["trained"]["a"] == pytest.approx(k.EXAMPLE_A_JOINT, rel=k.EXAMPLE_TOLERANCE)
    assert r["marginal_u"] == pytest.approx(k.EXAMPLE_MARGINAL_JOINT, rel=k.EXAMPLE_TOLERANCE)


@pytest.mark.trains
def test_quadratic_one_sided_u_given_v_recovers_the_true_conditional():
    r = run_simulation(dataclasses.replace(TWO_D, loss="u|v", tilt="quadratic"))
    assert r["example"]["trained"]["slope"] == pytest.approx(k.EXAMPLE_TRUE_SLOPE, rel=k.EXAMPLE_TOLERANCE)
    assert r["example"]["trained"]["var"] == pytest.approx(k.EXAMPLE_TRUE_VAR, rel=k.EXAMPLE_TOLERANCE)
