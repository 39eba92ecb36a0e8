"""AppTest for Xue et al. 2023's pages: the linear toys (trained in the worker, then b = 0 and n < k_e
said in words) and the methods side by side (four losses trained on one dataset and seed, their probes
per label set as bars, the subclass curve, and what a dataset without subclasses does instead)."""

from __future__ import annotations

import pytest
from app_helpers import page, texts, wait_for


def _widget(at, kind: str, key: str):
    return next(w for w in getattr(at, kind) if w.key == key)


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


@pytest.mark.slow
def test_the_toys_train_in_the_worker_and_say_what_b_zero_and_few_examples_mean(empty_env):
    at = page("xue2023_toys")
    assert not at.exception
    at = wait_for(at, lambda a: "SCL's collapse drop" in texts(a) and _charts(a) >= 4, timeout=180)
    assert "b = 0.5, α = 0.5: the spec's measured settings" in texts(at)
    final = {m.label: m.value for m in at.metric}
    assert final["SCL (supervised): final"] == "0.52" and final["UCL (unsupervised): final"] == "1.00"
    _widget(at, "slider", "xt_b").set_value(0.0).run()
    assert "b = 0: nothing to collapse." in texts(at)
    _widget(at, "select_slider", "xt_ke").set_value(128).run()
    _widget(at, "select_slider", "xt_n").set_value(64).run()
    assert "n < k_e: fewer training examples (64) than easy dimensions (128)." in texts(at)
    assert "one of the spec's measured settings" in texts(at)
    at = wait_for(at, lambda a: "Each line here:" in texts(a), timeout=180)
    assert not at.exception and not at.error


@pytest.mark.slow
def test_four_methods_train_side_by_side_and_their_probes_are_drawn(empty_env):
    at = page("xue2023_methods")
    _widget(at, "selectbox", "xm_dataset").set_value("digits").run()
    _widget(at, "number_input", "xm_subset-digits").set_value(600).run()
    _widget(at, "number_input", "xm_ep-digits").set_value(1.0).run()
    assert "Not trained yet: supervised, supcon, simclr, joint." in texts(at)
    _widget(at, "button", "xm_train").click().run()
    at = wait_for(at, lambda a: any(c.key == "xm_bars" for c in a.get("plotly_chart")), timeout=300)
    at = wait_for(at, lambda a: "Collapse drop" in texts(a), timeout=180)
    assert not at.exception and not at.error
    assert "digits has no subclass labels: the curve probes its classes instead" in texts(at)
    spec = next(c for c in at.get("plotly_chart") if c.key == "xm_bars").proto.spec
    assert all(f'"{m}"' in spec for m in ("supervised", "supcon", "simclr", "joint", "pixels"))
