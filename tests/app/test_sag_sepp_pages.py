"""AppTest for the pages of SAG-VICReg (kNN graph and walks, global structure) and SePP (semantic pairs)
against the tiny digits runs of conftest.py, and against a folder with a tiny sag-vicreg and sepp-simclr run;
and the Train page's widgets for the four methods these papers add."""

from __future__ import annotations

import time

import pytest
from app_helpers import REPO, page, run_id_of, texts, wait_for


def metric(at, label: str):
    return next((m for m in at.metric if m.label == label), None)


def chart_specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def test_the_train_page_shows_each_new_methods_parameters(app_env):
    at = page("train")
    for method, label in (("vicreg", None), ("sag-vicreg", "Walk steps t"), ("sepp-simclr", "Partner sampler"),
                          ("sepp-vicreg", "Threshold quantile")):  # fmt: skip
        next(s for s in at.selectbox if s.label == "Method").set_value(method).run()
        assert not at.exception, method
        labels = [w.label for w in (*at.slider, *at.selectbox)]
        assert label is None or label in labels, (method, labels)


def test_the_train_page_offers_the_stored_runs_of_the_dataset_as_sepp_sampler_runs(app_env):
    """The 'Sampler run' box appears with the 'run' sampler only, lists the stored digits runs by id, and the
    config it makes names the chosen run (a SePP run not stored yet: nothing refused)."""
    at = page("train")
    at.selectbox(key="t_dataset").set_value("digits").run()
    next(s for s in at.selectbox if s.label == "Method").set_value("sepp-simclr").run()
    assert "Sampler run" not in [s.label for s in at.selectbox]
    next(s for s in at.selectbox if s.label == "Partner sampler").set_value("run").run()
    box = next(s for s in at.selectbox if s.label == "Sampler run")
    assert len(box.options) == 2 and all(
        o.endswith((run_id_of("simclr"), run_id_of("supervised"))) for o in box.options
    )
    box.set_value(run_id_of("supervised")).run()
    assert not at.exception and not at.error, texts(at)
    assert "Not trained yet" in texts(at) and at.session_state[box.key] == run_id_of("supervised")


def test_the_graph_page_draws_the_neighbourhood_its_walks_and_statistics(app_env):
    at = page("sag2025_graph", run_picker=run_id_of("simclr"))
    at = wait_for(at, lambda a: metric(a, "Walk precision") is not None)
    assert not at.exception and not at.error
    graph = next(s for s in chart_specs(at) if '"walk 1"' in s)
    assert '"cross-class edge"' in graph and '"selected image"' in graph and '"walk 20"' in graph
    assert metric(at, "Components") is not None and metric(at, "Return, t = 2") is not None
    assert "Simai, Talmon & Shaham 2025" in at.caption[0].value
    at.slider(key="walk_t").set_value(4).run()
    assert not at.exception and metric(at, "Return, t = 4") is not None
    at.slider(key="walk_n").set_value(3).run()
    assert not any('"walk 4"' in s for s in chart_specs(at)) and any('"walk 3"' in s for s in chart_specs(at))
    at.number_input[0].set_value(5).run()
    assert not at.exception and at.session_state["point"]["row"] == 5


def test_the_graph_page_works_on_the_pixels_with_a_force_layout(app_env):
    at = page("sag2025_graph", run_picker=run_id_of("simclr"), graph_rep="pixels")
    at = wait_for(at, lambda a: metric(a, "Walk precision") is not None)
    assert not at.exception and not at.error
    assert any('"walk 1"' in s for s in chart_specs(at))


def test_the_structure_page_scores_every_run_and_the_pixels(app_env):
    at = page("sag2025_structure", run_picker=run_id_of("simclr"))
    at = wait_for(at, lambda a: len(a.dataframe) == 1 and len(a.dataframe[0].value) == 3)
    table = at.dataframe[0].value
    assert "pixels (PCA-64)" in set(table["representation"])
    for column in ("M1 Spearman", "M1 cophenetic", "M1 AUC", "M2 (sanity check)"):
        assert table[column].between(-1, 1).all(), column
    assert "the lab's shape groups" in texts(at) and "sanity check only" in at.caption[0].value


def test_the_pairs_page_scores_the_run_and_the_pixels_as_samplers(app_env):
    at = page("sepp2023_pairs", run_picker=run_id_of("supervised"))
    at = wait_for(at, lambda a: len(a.dataframe) == 1 and len(a.dataframe[0].value) == 24)
    assert not at.exception and "did not train with semantic pairs" in texts(at)
    table = at.dataframe[0].value
    assert table["pair_precision"].between(0, 1).all() and set(table["k"]) == {1, 5, 10}
    assert "oracle pairs 1.000" in texts(at)


@pytest.fixture()
def paper_runs_env(tmp_path, monkeypatch, runs_dir):
    """A runs folder with a tiny sag-vicreg run (mapped) and a tiny sepp-simclr run on digits."""
    import streamlit as st
    from tiny import TINY_APP

    from lab.core.config import TrainConfig
    from lab.store.runs import RunStore
    from lab.worker.manager import get_manager

    root = tmp_path / "runs"
    store = RunStore(root)
    sag, _ = store.get_or_train(TrainConfig(method="sag-vicreg", **TINY_APP))
    sepp, _ = store.get_or_train(TrainConfig(method="sepp-simclr", **TINY_APP))
    jobs = [get_manager(root).request_map(sag), get_manager(root).request_table(sag)]
    deadline = time.time() + 180
    while any(j.active for j in jobs) and time.time() < deadline:
        time.sleep(0.2)
    monkeypatch.setenv("LAB_RUNS_DIR", str(root))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield sag, sepp
    st.cache_resource.clear()


def test_a_sag_runs_training_walks_and_a_sepp_runs_pairs_are_shown(paper_runs_env):
    sag, sepp = paper_runs_env
    at = page("sag2025_graph", run_picker=sag.id)
    at = wait_for(at, lambda a: any(s.value == "The walks this run took in training" for s in a.subheader))
    assert any('"walk 1"' in s for s in chart_specs(at)[-1:]), "the replay over the map"
    at = page("sag2025_structure", run_picker=sag.id)
    assert any(s.value == "Walk precision during training" for s in at.subheader) and not at.exception
    at = page("sepp2023_pairs", run_picker=sepp.id)
    assert (
        metric(at, "Sampler").value == "pixels" and float(metric(at, "Pair precision").value.rstrip("%")) > 50
    )
    assert any('aria-label="semantic pairs"' in h.proto.body for h in at.get("html"))
