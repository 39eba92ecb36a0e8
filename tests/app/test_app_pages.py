"""AppTest for every page against tiny digits runs in a temporary runs folder (see conftest.py).

AppTest cannot click a plotly chart, so a selected point is set through session state
(`point`), exactly what a click on the map stores."""

from __future__ import annotations

import json
import time

import pytest
from app_helpers import REPO, page, run_id_of, texts, wait_for
from streamlit.testing.v1 import AppTest


def widget(elements, label):
    return next(w for w in elements if w.label.startswith(label))


# ---------------------------------------------------------------- shell and Train page
def test_app_opens_on_the_train_page_with_the_stored_runs_in_the_sidebar(app_env):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Train a model"
    picker = widget(at.sidebar.selectbox, "Stored run")
    # named by method, dataset, embedding size, what differs from the default config and kNN accuracy
    # (the tiny runs train 3 epochs, not digits' default 5), short enough for the sidebar
    methods = {o.split(" · ")[0] for o in picker.options}
    assert {"simclr", "supervised"} <= methods, picker.options
    assert all(o.split(" · ")[1] == "digits" and o.split(" · ")[2].startswith("p=") for o in picker.options)
    assert all(" · 3 ep · " in o for o in picker.options), picker.options
    assert all(len(o) <= 44 and (o.endswith("%") or o.endswith("scoring")) for o in picker.options), (
        picker.options
    )
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Device:" in sidebar and "digits" in sidebar


def test_train_page_has_every_control_and_the_augmentation_strip(app_env):
    at = page("train")
    assert not at.exception
    assert {"Dataset", "Method", "Encoder"} <= {s.label for s in at.selectbox}
    assert {"Augmentation strength", "Temperature T"} <= {
        s.label for s in at.slider
    }  # simclr's own parameter
    sizes = widget(at.select_slider, "Embedding size")
    assert sizes.options[0] == "2" and sizes.options[-1] == "2048" and sizes.value == 128
    # Fashion-MNIST trains for a time budget by default, digits for epochs
    assert {"Width", "Budget (seconds)", "Batch size", "Seed"} <= {n.label for n in at.number_input}
    assert len(at.get("image")) >= 6, "the augmentation strip shows before anything is trained"
    widget(at.slider, "Augmentation strength").set_value(0.0).run()
    assert not at.exception
    assert "No augmentation" in texts(at)


def test_each_method_shows_the_parameters_it_declares(app_env):
    """The widgets come from the method's Param declarations: supervised has no temperature; joint
    has a temperature and alpha, with the range its declaration gives."""
    at = page("train")
    widget(at.selectbox, "Method").set_value("supervised").run()
    assert not any(s.label.startswith(("Temperature", "Alpha")) for s in at.slider)
    widget(at.selectbox, "Method").set_value("joint").run()
    alpha = widget(at.slider, "Alpha")
    assert (alpha.min, alpha.max, alpha.value) == (0.0, 1.0, 0.5) and widget(at.slider, "Temperature")


def configure_tiny(at: AppTest, **changes) -> AppTest:
    widget(at.selectbox, "Dataset").set_value("digits").run()
    for label, value in {"Epochs": 3.0, **changes}.items():
        widget(at.number_input, label).set_value(value)
    return at.run()


def test_a_stored_config_shows_its_results_at_once(app_env):
    at = configure_tiny(page("train"))
    assert not at.exception
    assert any("Stored" in s.value for s in at.success)
    labels = [m.label for m in at.metric]
    assert "kNN accuracy (k=20, h)" in labels and "Pixels (PCA-64)" in labels
    assert all("pts vs pixels" in str(m.delta) for m in at.metric if m.label.startswith(("kNN", "Linear")))


def test_bad_values_show_an_error_box_not_a_traceback(app_env):
    at = configure_tiny(page("train"), **{"Training images": 5})
    assert not at.exception
    assert any("subset must be at least 10" in e.value for e in at.error)


def test_empty_state_offers_the_default_model(empty_env):
    at = page("train")
    assert "No runs yet" in texts(at)
    assert any(b.label == "Train the default model" for b in at.button)
    at = page("map")
    assert not at.exception and "No runs yet" in texts(at)
    at = page("compare")
    assert not at.exception and "two stored runs" in texts(at)


def _in_page_order(node, out=None) -> list[str]:
    """The page's elements' values, top to bottom (AppTest keeps each kind in its own list)."""
    out = [] if out is None else out
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for k in sorted(children):
            _in_page_order(children[k], out)
    else:
        out.append(str(getattr(node, "value", getattr(node, "label", ""))))
    return out


@pytest.mark.trains
def test_a_first_run_shows_its_progress_and_outcome_at_the_top(empty_env, monkeypatch):
    """The empty state's button is at the top of the Train page; the run it starts reports there,
    not below the controls, out of sight, and only once."""
    from pages.ui import state

    monkeypatch.setattr(state, "default_dataset", lambda: "digits")  # a few seconds, not a minute
    at = page("train")
    widget(at.button, "Train the default model").click().run()
    assert not at.exception and "No runs yet" not in texts(at)
    order = _in_page_order(at.main)
    if "#### Training simclr on digits" in order:  # still running at this rerun
        assert order.index("#### Training simclr on digits") < order.index("Data and model")
        assert sum(b.label == "Cancel" for b in at.button) == 1
    wait_for(at, lambda a: any("Your first run is ready" in m.value for m in a.markdown))
    order = _in_page_order(at.main)
    ready = next(v for v in order if "Your first run is ready" in v)
    assert order.index(ready) < order.index("Data and model")
    assert "See its map" in [b.label for b in at.button] and "No runs yet" not in texts(at)


@pytest.mark.trains
def test_training_from_the_page_completes_and_shows_metrics(empty_env):
    at = configure_tiny(page("train"), Seed=1)
    widget(at.button, "Start training").click().run()
    assert not at.exception
    order = _in_page_order(at.main)
    training = [v for v in order if v.startswith("#### Training")]
    if training:  # still running at this rerun: its progress replaces the Start button, at the foot
        assert order.index(training[0]) > order.index("Data and model")
    wait_for(at, lambda a: any("Trained and stored" in s.value for s in a.success))
    assert not any("Your first run is ready" in m.value for m in at.markdown)  # that is the top box's
    assert "kNN accuracy (k=20, h)" in [m.label for m in at.metric]
    from lab.worker.manager import get_manager

    mgr = get_manager(str(empty_env))
    deadline = time.time() + 120  # the map, then the deferred scores, then the kNN table
    while mgr.busy() and time.time() < deadline:
        time.sleep(0.5)
    assert not mgr.busy()
    at.run()
    linear = widget(at.metric, "Linear probe (h)").value
    assert linear.endswith("%") and float(linear.rstrip("%")) > 10, f"scored after the map: {linear}"


def test_start_clicked_as_the_method_changes_trains_nothing_and_says_why(empty_env):
    """The browser sends the old epochs with that click, before the page has reset them."""
    at = configure_tiny(page("train"), Seed=3)
    widget(at.selectbox, "Method").set_value("supervised")
    widget(at.button, "Start training").click().run()
    assert not at.exception
    assert any("changed as you clicked Start" in w.value for w in at.warning)
    from lab.worker.manager import get_manager

    assert not get_manager(str(empty_env)).busy(), "nothing was submitted"
    widget(at.button, "Start training").click().run()  # the second click, with the page in step
    assert not any("changed as you clicked Start" in w.value for w in at.warning)
    wait_for(at, lambda a: any("Trained and stored" in s.value for s in a.success))


def test_cancel_stops_training_and_the_page_stays_usable(empty_env):
    at = configure_tiny(page("train"), Epochs=200.0, Seed=2)
    widget(at.button, "Start training").click().run()
    wait_for(at, lambda a: any(b.label == "Cancel" for b in a.button), timeout=60)
    widget(at.button, "Cancel").click().run()
    wait_for(at, lambda a: any("cancelled" in i.value.lower() for i in a.info), timeout=60)
    assert any(b.label == "Start training" for b in at.button)


def test_a_failing_job_shows_a_readable_error_and_the_page_stays_usable(tmp_path, monkeypatch):
    import streamlit as st

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    monkeypatch.setenv("LAB_RUNS_DIR", str(blocker))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    at = configure_tiny(page("train"), Seed=3)
    widget(at.button, "Start training").click().run()
    wait_for(at, lambda a: any("Training failed" in e.value for e in a.error), timeout=90)
    assert "Cannot write to the runs folder" in texts(at)
    assert any(b.label == "Start training" for b in at.button)


def test_missing_fashion_mnist_still_opens_and_says_how_to_get_it(empty_env, monkeypatch, tmp_path):
    import lab.core.data
    import lab.core.sources

    monkeypatch.setattr(lab.core.sources, "DEBIAN_FASHION_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(lab.core.data, "_LOADED", {})
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("LAB_NO_DOWNLOAD", "1")
    at = page("train")
    assert not at.exception
    assert widget(at.selectbox, "Dataset").options == ["digits"]
    assert any("Fashion-MNIST is not installed" in w.value for w in at.warning)
    assert any("dataset-fashion-mnist" in c.value for c in at.code)


# ---------------------------------------------------------------- Map and Compare pages
@pytest.fixture()
def simclr_state(app_env):
    return {"run_picker": run_id_of("simclr")}


def test_map_page_renders_the_map_pairs_and_downloads(simclr_state):
    at = page("map", **simclr_state)
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    chart = at.get("plotly_chart")[0].proto
    assert chart.theme == "", "theme=None: the figure carries its own style (lab/figures.py)"
    assert "bdata" not in chart.spec and '"template"' not in chart.spec
    assert any("Click a dot" in i.value for i in at.info)
    examples = [h.proto.body for h in at.get("html") if 'aria-label="class examples"' in h.proto.body]
    assert examples and examples[0].count("<img") == 10, "one image of each digit before any click"
    fidelity = [c.value for c in at.caption if c.value.startswith("Map fidelity")]
    assert fidelity and "nearest neighbours in the embedding" in fidelity[0]
    assert "Cross-class pairs" in [s.value for s in at.subheader]
    labels = {b.label for b in at.get("download_button")}
    assert {
        "Embeddings (.npy)",
        "Embeddings, labels and map (.csv)",
        "Metrics and config (.json)",
        "Map (interactive .html)",
    } <= labels


def test_a_selected_point_shows_the_image_and_its_neighbours(simclr_state):
    from lab.worker.manager import _WORKER

    _WORKER.release()
    at = page("map", point={"data": "digits/None/0", "row": 5}, **simclr_state)
    assert not at.exception
    assert _WORKER.held_until > time.monotonic(), (
        "the map's rerun holds background jobs (lab.worker.manager.HOLD_S)"
    )
    share = widget(at.metric, "Neighbours from another class")
    assert share.value.endswith("%")
    assert "The 16 nearest neighbours" in texts(at)
    assert len(at.get("image")) >= 1, "the clicked image, large"
    grids = [h.proto.body for h in at.get("html") if 'aria-label="nearest neighbours"' in h.proto.body]
    assert grids and grids[0].count("<img") == 16, "the neighbour grid, one inlined PNG per neighbour"
    assert grids[0].count("<figcaption>") == 16 and 'src="data:image/png;base64,' in grids[0]


def test_compare_page_shows_both_maps_and_neighbours_in_each(simclr_state):
    at = page("compare", point={"data": "digits/None/0", "row": 7}, **simclr_state)
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    assert sum("12 nearest in" in m.value for m in at.markdown) == 2
    assert "Cross-class pairs, in both runs" in [s.value for s in at.subheader]


def test_a_run_left_with_pending_scores_gets_them_when_shown(runs_dir, tmp_path, monkeypatch):
    """If the app stopped between a run's map and its linear probe, showing the run queues the rest."""
    import shutil

    import streamlit as st

    from lab.store.runs import RunStore
    from lab.worker.manager import get_manager

    rid = run_id_of("simclr")
    shutil.copytree(runs_dir / rid, tmp_path / rid)
    metrics = json.loads((tmp_path / rid / "metrics.json").read_text())
    linear = metrics.pop("linear_acc")
    (tmp_path / rid / "metrics.json").write_text(json.dumps({**metrics, "pending_scores": ["linear_acc"]}))
    monkeypatch.setenv("LAB_RUNS_DIR", str(tmp_path))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    at = page("map")
    assert not at.exception and "linear scoring..." in texts(at)
    mgr = get_manager(str(tmp_path))
    deadline = time.time() + 60
    while mgr.busy() and time.time() < deadline:
        time.sleep(0.2)
    assert RunStore(tmp_path).load(rid).metrics["linear_acc"] == pytest.approx(linear)
    st.cache_resource.clear()


def test_a_paper_that_failed_to_import_gets_a_page_with_its_error_and_the_app_still_opens(
    app_env, monkeypatch
):
    import lab.papers

    monkeypatch.setattr(lab.papers, "FAILED", {"broken2026": "RuntimeError: half written\n\nTraceback ..."})
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not at.exception and at.title[0].value == "Train a model"

    def broken_page():
        from pages.ui.reports import broken_paper

        broken_paper("broken2026", "RuntimeError: half written")

    page_at = AppTest.from_function(broken_page).run()
    assert "could not be loaded" in page_at.title[0].value and "half written" in page_at.code[0].value
    assert "The rest of the lab works" in page_at.error[0].value


def test_a_paper_method_gets_its_parameter_widgets_from_its_declaration(app_env, monkeypatch):
    import lab.papers
    from lab.core.methods import Method, Param, Step
    from lab.papers.paper import Paper

    lam = Param(
        "lam", 25.0, "weight of the toy term", "[L]", low=0.0, step=1.0, ui_range=(0.0, 50.0), label="λ (toy)"
    )
    method = Method("toy-expander", "a toy method", "[L]", False, 2, lambda s: Step, (lam,))
    monkeypatch.setattr(
        lab.papers, "PAPERS", {**lab.papers.PAPERS, "toy": Paper("toy", "T", "N", "S", methods=(method,))}
    )
    at = page("train")
    widget(at.selectbox, "Method").set_value("toy-expander").run()
    slider = widget(at.slider, "λ (toy)")
    assert (slider.min, slider.max, slider.value) == (0.0, 50.0, 25.0) and not at.exception


@pytest.fixture()
def subset_env(runs_dir, tmp_path, monkeypatch):
    """A runs folder with the full simclr digits run and a 500-image supervised run, both mapped."""
    import shutil
    import time as _time

    import streamlit as st

    from lab.core.config import TrainConfig
    from lab.store.runs import RunStore
    from lab.worker.manager import get_manager

    root = tmp_path / "runs"
    full = next(r for r in RunStore(runs_dir).list() if r.config.method == "simclr")
    shutil.copytree(full.path, root / full.id)
    small, _ = RunStore(root).get_or_train(
        TrainConfig(dataset="digits", subset=500, epochs=3, method="supervised")
    )
    job = get_manager(root).request_map(small)
    deadline = _time.time() + 120
    while job.active and _time.time() < deadline:
        _time.sleep(0.2)
    monkeypatch.setenv("LAB_RUNS_DIR", str(root))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    yield full, small
    st.cache_resource.clear()


def test_runs_trained_on_different_subsets_are_compared_on_the_images_both_embedded(subset_env):
    full, small = subset_env
    at = page("compare", run_picker=full.id, cmp_left=full.id)
    at = wait_for(at, lambda a: len(a.get("plotly_chart")) >= 2)
    assert at.selectbox(key="cmp_right").value == small.id
    said = texts(at)
    assert "trained on different images (1,442 and 500 training images)" in said
    assert "Shown: the 855 images both embedded — 355 test images and 500 training images" in said
    shared_row = int(small.index[7])  # a training image of the small run is a row of the full run too
    at = page(
        "compare", run_picker=full.id, cmp_left=full.id, point={"data": "digits/None/0", "row": shared_row}
    )
    at = wait_for(at, lambda a: "12 nearest in" in texts(a))
    assert sum("12 nearest in" in m.value for m in at.markdown) == 2 and not at.exception


@pytest.fixture()
def four_runs(runs_dir, tmp_path, monkeypatch):
    """The app over a runs folder with the two tiny runs, two quick subset runs and a damaged copy."""
    import shutil

    import streamlit as st

    from lab.core.config import TrainConfig
    from lab.store.runs import RunStore

    root = tmp_path / "runs"
    for r in RunStore(runs_dir).list():
        shutil.copytree(r.path, root / r.id)
    store = RunStore(root)
    extra = [
        store.get_or_train(TrainConfig(dataset="digits", subset=200, epochs=1, seed=s))[0] for s in (7, 8)
    ]
    damaged, _ = store.get_or_train(
        TrainConfig(dataset="digits", subset=200, epochs=1, seed=9, method="supervised")
    )
    w = damaged.path / "weights.safetensors"
    w.write_bytes(w.read_bytes()[:1000])
    monkeypatch.setenv("LAB_RUNS_DIR", str(root))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    yield extra, damaged
    st.cache_resource.clear()


def test_the_sidebar_says_which_run_is_damaged_and_why_and_offers_to_train_it_again(four_runs):
    _, damaged = four_runs
    at = page("train")
    said = "\n".join(m.value for m in at.sidebar.markdown)
    assert f"**{damaged.id}**: weights.safetensors is 1,000 bytes; the manifest says" in said
    assert any(b.label == "Move aside and train again" for b in at.sidebar.button)
    assert damaged.id not in widget(at.sidebar.selectbox, "Stored run").options


def test_runs_are_found_by_words_of_their_label_and_seed_only_runs_read_differently(four_runs):
    extra, _ = four_runs
    at = page("train")
    labels = widget(at.sidebar.selectbox, "Stored run").options  # what the picker shows
    assert len(labels) == 4 and len(set(labels)) == 4
    assert sum("seed 7" in x for x in labels) == 1 and sum("seed 8" in x for x in labels) == 1
    at.sidebar.text_input(key="run_filter").set_value("seed 8").run()
    labels = widget(at.sidebar.selectbox, "Stored run").options
    assert any("seed 8" in x for x in labels) and len(labels) <= 2  # the match, and the selected run kept
    at.sidebar.selectbox(key="run_sort").set_value("kNN accuracy").run()
    assert not at.exception
