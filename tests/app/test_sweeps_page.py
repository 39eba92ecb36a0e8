"""AppTest for the Sweeps page: the plan and its estimate before anything trains, the refusal of a sweep
over its budget, a two-run digits sweep trained through the worker, its lines, and its table of runs with
M1 and M2 computed in the background."""

from __future__ import annotations

import pytest
from app_helpers import page, texts, wait_for


def _widget(at, kind: str, key: str):
    return next(w for w in getattr(at, kind) if w.key == key)


def test_a_sweep_over_its_budget_is_refused_with_its_estimate(empty_env):
    at = page("sweeps")
    assert not at.exception
    assert "No sweep yet" in texts(at)
    _widget(at, "selectbox", "sw_dataset").set_value("digits").run()
    _widget(at, "multiselect", "sw_sizes").set_value([2, 4, 8, 16, 32, 64, 128, 256, 512]).run()
    _widget(at, "number_input", "sw_seeds").set_value(10).run()
    _widget(at, "number_input", "sw_budget").set_value(1).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "over its budget of 1 minutes" in errors and "would take about" in errors
    assert "**270 runs**" in texts(at)
    assert _widget(at, "button", "sw_start").disabled


@pytest.mark.slow
def test_a_small_sweep_trains_in_the_background_and_draws_its_lines(empty_env):
    at = page("sweeps")
    _widget(at, "selectbox", "sw_dataset").set_value("digits").run()
    _widget(at, "number_input", "sw_epochs-digits").set_value(1.0).run()
    _widget(at, "multiselect", "sw_methods").set_value(["simclr"]).run()
    _widget(at, "multiselect", "sw_sizes").set_value([2, 8]).run()
    assert "**2 runs**" in texts(at)
    _widget(at, "button", "sw_start").click().run()
    at = wait_for(at, lambda a: "All 2 runs stored." in texts(a), timeout=240)
    at.run()
    assert not at.exception and not at.error
    spec = at.get("plotly_chart")[0].proto.spec
    assert '"simclr"' in spec and "embedding size p" in spec
    assert "digits: embedding size p (2) · done" in [o for o in _widget(at, "selectbox", "sw_pick").options]
    # the runs' M1 and M2 (lab.papers.sag2025), queued by the page, arrive in the table of runs
    at = wait_for(at, lambda a: a.dataframe and "—" not in set(a.dataframe[0].value["M2 sanity check [L]"]))
    table = at.dataframe[0].value
    assert len(table) == 2 and table["M1 global structure [L]"].astype(float).between(-1, 1).all()
    assert {"knn_acc", "linear_acc"} <= set(table.columns)
    assert any("[L] are the lab's stand-ins" in c.value for c in at.caption)
    _widget(at, "selectbox", "sw_measure").set_value("m1").run()  # M1 along the axis, the pixels' dotted
    assert not at.exception and "M1 global structure [L]" in at.get("plotly_chart")[0].proto.spec


@pytest.mark.slow
def test_an_embedding_size_slider_swaps_between_stored_runs_on_the_map_and_probes_pages(empty_env):
    from lab.core.config import TrainConfig
    from lab.store.runs import RunStore

    store = RunStore(empty_env)
    small, large = (
        store.get_or_train(TrainConfig(dataset="digits", epochs=1, embedding_size=p))[0] for p in (8, 32)
    )
    for name, prefix in (("map", "map"), ("zhang2023_probes", "probes")):
        at = page(name, run_picker=small.id)
        slider = _widget(at, "select_slider", f"{prefix}_axis_embedding_size")
        assert slider.options == ["8", "32"] and slider.value == 8
        assert "2 stored runs (this one among them) differ only in embedding size p" in texts(at)
        slider.set_value(32).run()
        assert not at.exception
        assert at.session_state["run_picker"] == large.id
        assert _widget(at, "select_slider", f"{prefix}_axis_embedding_size").value == 32
        assert large.id in texts(at) or name != "map"  # the Map page names the run it draws
