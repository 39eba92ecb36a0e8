"""AppTest for the Map page's training timeline (pages/ui/timeline.py): a tiny digits run with four
snapshots gets its timeline from the worker, then the step slider picks a frame, Play steps through the
frames and stops at the last, and the movie and measures download; a run without snapshots says how to
record them instead of drawing an empty chart."""

from __future__ import annotations

import time

import pytest
from app_helpers import REPO, page, texts

from lab.core.config import TrainConfig

SNAP_CFG = TrainConfig(dataset="digits", epochs=1, snapshots=4)


@pytest.fixture(scope="module")
def snapshot_root(tmp_path_factory):
    """A runs folder with the run, its map and its timeline, the last two from the app's worker (the
    timeline job kind): waiting on the page instead would hold the worker, as map clicks do."""
    from lab.store.runs import RunStore
    from lab.worker.manager import get_manager

    root = tmp_path_factory.mktemp("timeline-runs")
    run, _ = RunStore(root).get_or_train(SNAP_CFG)
    manager = get_manager(root)
    jobs = [manager.request_map(run, "backbone"), manager.request("timeline", run, "training timeline")]
    deadline = time.time() + 300
    while any(job.active for job in jobs) and time.time() < deadline:
        time.sleep(0.2)
    assert all(job.state == "done" for job in jobs), [job.error for job in jobs]
    return root, run.id


@pytest.fixture()
def snapshot_env(snapshot_root, monkeypatch):
    import streamlit as st

    root, rid = snapshot_root
    monkeypatch.setenv("LAB_RUNS_DIR", str(root))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    yield rid
    st.cache_resource.clear()


def _titles(at) -> str:
    return "\n".join(c.proto.spec for c in at.get("plotly_chart"))


@pytest.mark.trains
def test_the_timeline_plays_its_frames_with_the_current_step_marked(snapshot_env):
    at = page("map", run_picker=snapshot_env)
    assert any(b.key == "tl_play" for b in at.button), texts(at)
    steps = [int(o.split()[-1].replace(",", "")) for o in at.select_slider(key="tl_step").options]
    assert len(steps) == 4 and at.select_slider(key="tl_step").value == steps[-1]
    assert "Snapshot 4 of 4" in _titles(at) and "Training loss" in _titles(at) and "RLD" in _titles(at)
    assert {"Movie (.gif)", "Measures over training (.csv)"} <= {b.label for b in at.get("download_button")}

    at.select_slider(key="tl_step").set_value(steps[0]).run()
    assert not at.exception and "Snapshot 1 of 4" in _titles(at)

    at.button(key="tl_play").click().run()  # plays from the shown frame: the first rerun shows the next
    assert at.session_state["tl_playing"] and at.session_state["tl_step"] == steps[1]
    assert at.button(key="tl_play").label == "Pause" and "Snapshot 2 of 4" in _titles(at)
    for _ in range(3):  # the fragment's timer reruns it; AppTest reruns the page instead
        at.run()
    assert not at.exception
    assert (
        not at.session_state["tl_playing"] and at.session_state["tl_step"] == steps[-1]
    )  # stopped at the end
    assert at.button(key="tl_play").label == "Play"


def test_a_run_without_snapshots_says_how_to_record_them(app_env):
    from app_helpers import run_id_of

    at = page("map", run_picker=run_id_of("simclr"))
    assert not at.exception
    said = texts(at)
    assert (
        "trained without snapshots" in said
        and "--snapshots 8" in said
        and "Snapshots during training" in said
    )
    assert not any(b.key == "tl_play" for b in at.button)
