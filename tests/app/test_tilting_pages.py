"""AppTest for the tilting2025 pages: the theory page draws stored simulations (built here from the closed
forms, so nothing trains) and refuses bad sliders with a clear message before anything is queued; the
image–label page draws a stored demo and says what was seen."""

from __future__ import annotations

import json

import pytest
from app_helpers import page, texts

from lab.papers.tilting2025 import results
from lab.papers.tilting2025.gaussian import optimal_tilt
from lab.papers.tilting2025.simulation import SimulationConfig, Trained, evaluate
from lab.store.atomic import save_json_atomically


def store_closed_form(cfg: SimulationConfig, root) -> None:
    """Cache, for cfg, the result of 'training' that landed exactly on the closed form."""
    t = optimal_tilt(cfg.pair(), cfg.n_e, cfg.loss, cfg.tilt)
    save_json_atomically(
        results.cache_path(root, f"sim-{cfg.key()}"), evaluate(cfg, Trained(t, [0.0, 0.0], 1.5))
    )


@pytest.fixture()
def stored(empty_env):
    store_closed_form(SimulationConfig(), empty_env)
    for cfg in results.example_configs():
        store_closed_form(cfg, empty_env)
    return empty_env


def tilting_jobs(root) -> list[str]:
    from lab.worker.manager import get_manager

    return [j.kind for j in get_manager(root)._jobs.values() if j.kind.startswith("tilting2025")]


def test_the_theory_pages_default_view_draws_the_stored_result(stored):
    at = page("tilting2025_theory")
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert {"Largest principal angle", "u|v mean error", "Spectrum vs closed form"} <= set(labels)
    assert float(at.metric[labels.index("Largest principal angle")].value.rstrip("°")) == pytest.approx(
        0, abs=0.01
    )
    assert "Closed form [D]: the conditional means are exact" in texts(at)
    assert len(at.get("plotly_chart")) == 3  # spectrum, loss curve, the 2-D example
    assert "Train the sweep over batch size N" in [b.label for b in at.button]
    assert tilting_jobs(stored) == []  # everything shown was stored


@pytest.mark.parametrize(("key", "value", "says"), [("tilt_rank", 6, "cannot exceed the dimensions"),
                                                    ("tilt_noise", 0.0, "not positive definite"),
                                                    ("tilt_batch", 1, "at least 2 pairs")])  # fmt: skip
def test_bad_sliders_give_a_clear_message_and_train_nothing(stored, key, value, says):
    at = page("tilting2025_theory")
    (at.select_slider if key == "tilt_batch" else at.slider)(key=key).set_value(value).run()
    assert not at.exception, at.exception
    assert any(says in e.value and "Nothing was trained" in e.value for e in at.error), texts(at)
    assert "Largest principal angle" not in [m.label for m in at.metric]
    assert tilting_jobs(stored) == []


def test_a_new_setting_queues_its_simulation(stored):
    at = page("tilting2025_theory")
    at.radio(key="tilt_loss").set_value("joint").run()
    assert not at.exception, at.exception
    assert tilting_jobs(stored) == ["tilting2025.simulation"]


DEMO = {"key": None, "classes": [f"class {c}" for c in range(10)], "source": "constructed", "n_train": 100,
        "n_test": 360, "config": {"epochs": 3.0, "hidden": 256, "n_e": 32, "pool": 300, "draws": 4},
        "reference": {"accuracy": 0.1, "max_probability": 0.1, "entropy": 2.3, "ess": 30.0, "top_weight": 0.03,
                      "distinct": 3.8, "on_label": 1.0, "drawn_on_label": 1.0}}  # fmt: skip


def demo_loss(p: float, ess: float) -> dict:
    row = {
        "ess": ess,
        "top_weight": 1 / ess,
        "on_label": 0.8,
        "distinct": 4,
        "drawn": [0, 1, 2, 3],
        "drawn_on_label": 0.5,
    }
    return {"accuracy": 0.8, "max_probability": p, "entropy": 1 - p, "ess": ess, "top_weight": 1 / ess,
            "on_label": 0.8, "distinct": 4.0, "drawn_on_label": 0.5, "per_label": [row] * 10}  # fmt: skip


def test_the_image_label_page_says_what_was_seen(empty_env):
    from lab.papers.tilting2025.imagelabel import ImageLabelConfig

    cfg = ImageLabelConfig(dataset="digits")
    demo = {**DEMO, "key": cfg.key(), "losses": {"label|image": demo_loss(0.9, 3.0), "image|label": demo_loss(0.6, 250.0),
                                                 "two-sided": demo_loss(0.8, 200.0)}}  # fmt: skip
    results.cache_path(empty_env, f"imagelabel-{cfg.key()}").parent.mkdir(parents=True)
    results.cache_path(empty_env, f"imagelabel-{cfg.key()}").write_text(json.dumps(demo))
    at = page("tilting2025_imagelabel", il_dataset="digits")
    assert not at.exception, at.exception
    seen = at.info[0].value
    assert "Sharpest label probabilities: **label|image**" in seen and "least: **label|image** (3.0" in seen
    assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1
    assert "images drawn for class 0 under two-sided" in "".join(str(h.proto) for h in at.get("html"))
