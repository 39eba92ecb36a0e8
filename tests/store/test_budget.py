"""A time budget instead of epochs (lab.store.budget): the run trains within it, records the epochs it
realised, and asking again with the same budget finds the stored run; bad input is refused first."""

from __future__ import annotations

import pytest

from lab.core.config import TrainConfig
from lab.store import budget
from lab.store.runs import RunStore

DIGITS = TrainConfig(dataset="digits", batch_size=128)


def _per_epoch() -> int:
    from lab.core.data import load_dataset

    return len(load_dataset("digits").train_labels) // 128


@pytest.mark.slow
def test_a_three_second_budget_trains_within_it_and_records_its_epochs(tmp_path):
    store = RunStore(tmp_path)
    cfg = budget.resolve_budget(DIGITS, 3.0, tmp_path)
    run, stored = store.get_or_train(cfg)
    assert not stored
    assert run.config.epochs == cfg.epochs and cfg.epochs != DIGITS.epochs
    assert 1.5 <= run.metrics["train_seconds"] <= 4.5  # the calibration is not part of the run
    steps = run.metrics["steps"]
    assert steps == round(cfg.epochs * _per_epoch())


@pytest.mark.slow
def test_the_same_budget_again_reuses_the_resolution_and_the_stored_run(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    first = budget.resolve_budget(DIGITS, 2.0, tmp_path)
    run, _ = store.get_or_train(first)

    def no_second_measure(cfg):
        raise AssertionError("the budget was measured again")

    monkeypatch.setattr(budget, "calibrate", no_second_measure)
    again = budget.resolve_budget(DIGITS, 2.0, tmp_path)
    assert again == first
    assert store.get_or_train(again)[1], "found stored, not trained again"
    assert budget.resolve_budget(TrainConfig(**{**DIGITS.to_dict(), "epochs": 9.0}), 2.0, tmp_path) == first


def test_the_resolution_is_keyed_by_config_budget_and_machine(tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "calibrate", lambda cfg: 10.0)  # steps per second
    a = budget.resolve_budget(DIGITS, 3.0, tmp_path)
    per_epoch = _per_epoch()
    assert a.epochs == round(30 / per_epoch, 6)
    monkeypatch.setattr(budget, "calibrate", lambda cfg: 20.0)
    assert budget.resolve_budget(DIGITS, 6.0, tmp_path).epochs == round(120 / per_epoch, 6)  # another budget
    assert budget.resolve_budget(DIGITS, 3.0, tmp_path) == a  # kept
    monkeypatch.setattr(budget, "machine_key", lambda device: "another machine")
    assert budget.resolve_budget(DIGITS, 3.0, tmp_path).epochs == round(60 / per_epoch, 6)


@pytest.mark.parametrize("seconds", [0, -5, 1e9, float("nan")])
def test_a_budget_out_of_range_is_refused(tmp_path, seconds):
    with pytest.raises(ValueError, match="time budget must be between"):
        budget.resolve_budget(DIGITS, seconds, tmp_path)


def test_budget_and_epochs_together_are_refused_before_anything_trains(tmp_path, capsys, monkeypatch):
    from lab.__main__ import main

    monkeypatch.setattr(budget, "calibrate", lambda cfg: pytest.fail("measured"))
    code = main(
        ["--runs-dir", str(tmp_path), "train", "--dataset", "digits", "--budget", "5", "--epochs", "2"]
    )
    assert code == 2
    assert "Give --budget SECONDS or --epochs N, not both" in capsys.readouterr().err
