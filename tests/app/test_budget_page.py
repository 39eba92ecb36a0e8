"""AppTest for the Train page's time budget: the worker measures this machine's speed, then the run of the
realised epochs trains and its results show; the same budget again finds the stored run at once."""

from __future__ import annotations

import pytest
from app_helpers import page, texts, wait_for


def _widget(elements, label: str):
    return next(w for w in elements if w.label == label)


def _budget_page(seconds: int):
    at = page("train", **{"t_length-digits": "a time budget"})
    _widget(at.selectbox, "Dataset").set_value("digits").run()
    _widget(at.number_input, "Budget (seconds)").set_value(seconds).run()
    assert not at.exception
    assert "Epochs" not in {n.label for n in at.number_input}
    return at


@pytest.mark.slow
def test_a_time_budget_measures_then_trains_the_epochs_that_fit(empty_env):
    at = _budget_page(3)
    assert "A 3-s budget: this machine's speed for this config is measured first" in texts(at)
    _widget(at.button, "Start training").click().run()
    at = wait_for(at, lambda a: any("Trained and stored" in s.value for s in a.success), timeout=240)
    assert not at.exception and not at.error
    trained = [m.value for m in at.metric]
    at = _budget_page(3)
    # the same budget finds the run (this process's job still says it was just trained)
    assert any("stored" in s.value.lower() for s in at.success) and not any(
        b.label == "Start training" for b in at.button
    )
    assert [m.value for m in at.metric] == trained
