"""AppTest for the training timeline (pages/ui/timeline.py): on the Map page, a tiny digits run with four
snapshots gets its timeline from the worker as one chart holding every frame (its slider and Play run in
the browser: tests/app/test_browser_timeline.py drives them), and the movie and measures download; a run without snapshots says how to
record them instead of drawing an empty chart. On the Compare page, two runs of different lengths share
one axis of training progress; a run without snapshots says how to record them there too; a run
whose timeline is not computed yet gets it queued. On the Train page, a training job's live frames."""

from __future__ import annotations

import time

import pytest
from app_helpers import REPO, page, texts

from lab.core.config import TrainConfig

SNAP_CFG = TrainConfig(dataset="digits", epochs=1, batch_size=256, snapshots=4)
# the Compare page's partner: another method, twice the steps, so its snapshots fall at other shares
PARTNER_CFG = TrainConfig(dataset="digits", method="supervised", epochs=2, batch_size=256, snapshots=4)


@pytest.fixture(scope="module")
def snapshot_root(tmp_path_factory):
    """A runs folder with two runs, their maps and timelines, the last two from the app's worker (the
    timeline job kind): waiting on the page instead would hold the worker, as map clicks do."""
    from lab.store.runs import RunStore
    from lab.worker.manager import get_manager

    root = tmp_path_factory.mktemp("timeline-runs")
    runs = [RunStore(root).get_or_train(cfg)[0] for cfg in (SNAP_CFG, PARTNER_CFG)]
    manager = get_manager(root)
    jobs = [job for run in runs for job in (manager.request_map(run, "backbone"),
                                            manager.request("timeline", run, "training timeline"))]  # fmt: skip
    deadline = time.time() + 300
    while any(job.active for job in jobs) and time.time() < deadline:
        time.sleep(0.2)
    assert all(job.state == "done" for job in jobs), [job.error for job in jobs]
    return root, runs[0].id, runs[1].id


@pytest.fixture()
def snapshot_env(snapshot_root, monkeypatch):
    import streamlit as st

    root, rid, _ = snapshot_root
    monkeypatch.setenv("LAB_RUNS_DIR", str(root))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    yield rid
    st.cache_resource.clear()


def _titles(at) -> str:
    return "\n".join(c.proto.spec for c in at.get("plotly_chart"))


def _movie(at, key: str) -> dict:
    import json

    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key) or key in c.proto.id)
    return json.loads(chart.proto.spec)


@pytest.mark.trains
def test_the_timeline_is_one_chart_that_holds_every_frame_with_the_current_step_marked(snapshot_env):
    at = page("map", run_picker=snapshot_env)
    assert not at.exception and "Training timeline" in texts(at), texts(at)
    spec = _movie(at, "tl_movie")
    steps = [int(s["label"].replace(",", "")) for s in spec["layout"]["sliders"][0]["steps"]]
    assert len(steps) == 4 and spec["layout"]["sliders"][0]["active"] == 3 and len(spec["frames"]) == 4
    heads = [f["layout"]["annotations"][0]["text"] for f in spec["frames"]]
    assert heads == [f"Snapshot {i + 1} of 4 · after step {s:,}" for i, s in enumerate(steps)]
    assert "Training loss" in _titles(at) and "RLD" in _titles(at)
    assert [b["label"] for b in spec["layout"]["updatemenus"][0]["buttons"]] == ["▶ Play", "❚❚ Pause"]
    # the frames differ: the movie moves
    assert spec["frames"][0]["data"][0]["x"] != spec["frames"][-1]["data"][0]["x"]
    assert {"Movie (.gif)", "Measures over training (.csv)"} <= {b.label for b in at.get("download_button")}
    assert "Drag the slider under the charts, or press Play" in texts(at)


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
    assert not any("tl_movie" in c.proto.id for c in at.get("plotly_chart"))


@pytest.mark.trains
def test_two_runs_movies_play_side_by_side_on_one_axis_of_training_progress(snapshot_root, snapshot_env):
    _, a, b = snapshot_root
    at = page("compare", run_picker=a, cmp_left=a, cmp_right=b)
    assert not at.exception and "Training movies, side by side" in texts(at), texts(at)
    assert "fraction of training" in texts(at)
    spec = _movie(at, "cmp_tl_movie")
    # 1 epoch of digits is 5 steps (snapshots after 1, 2, 4, 5), 2 epochs 10 (after 2, 5, 8, 10)
    assert [s["label"] for s in spec["layout"]["sliders"][0]["steps"]] == ["20%", "40%", "50%", "80%", "100%"]
    heads = [[a["text"] for a in f["layout"]["annotations"][:2]] for f in spec["frames"]]
    assert all("snapshot 4 of 4" in h for h in heads[-1])
    # at 40 %: the short run's second snapshot; the long run has none after its first yet
    assert "snapshot 2 of 4 · step 2 of 5" in heads[1][0] and "snapshot 1 of 4 · step 2 of 10" in heads[1][1]
    assert "snapshot 2 of 4" in heads[2][0] and "snapshot 2 of 4" in heads[2][1]  # 50 %: both second
    names = [t.get("name") for t in spec["data"]]
    assert any(n and n.startswith("simclr") for n in names) and any(
        n and n.startswith("supervised") for n in names
    )
    assert "kNN accuracy" in _titles(at)


def test_compare_says_how_to_record_snapshots_for_runs_without_them(app_env):
    at = page("compare")
    assert not at.exception
    said = texts(at)
    assert "Training movies, side by side" in said and "were trained without snapshots" in said
    assert "Snapshots during training" in said and "--snapshots 8" in said
    assert not any("cmp_tl_movie" in c.proto.id for c in at.get("plotly_chart"))


@pytest.mark.trains
def test_a_partner_whose_timeline_is_missing_gets_it_queued_then_plays(snapshot_root, snapshot_env):
    import shutil
    from pathlib import Path

    from lab.store.runs import RunStore
    from lab.store.timeline import stored_timeline
    from lab.worker.manager import get_manager

    root, a, b = snapshot_root
    shutil.rmtree(Path(root) / b / "analysis" / "vtimeline-1")  # as if never computed
    at = page("compare", run_picker=a, cmp_left=a, cmp_right=b)
    assert not at.exception and not any("cmp_tl_movie" in c.proto.id for c in at.get("plotly_chart"))
    job = get_manager(root).job(f"{b}/timeline/backbone")
    assert job is not None and job.title.startswith("training timeline of supervised")  # queued by the page
    assert any("Started" in str(c.value) and "stored with the run" in str(c.value) for c in at.caption)
    # waited for here, not by rerunning the page: each rerun of a page with maps holds background jobs
    deadline = time.time() + 240
    while job.active and time.time() < deadline:
        time.sleep(0.2)
    assert job.state == "done", job.error
    at.run()
    assert any("cmp_tl_movie" in c.proto.id for c in at.get("plotly_chart"))
    assert stored_timeline(RunStore(root).load(b)) is not None


def test_a_training_job_with_snapshots_shows_its_newest_live_frame_labelled_provisional(empty_env):
    import numpy as np

    from lab.core.train import Progress
    from lab.worker.job import Job, LiveFrame
    from lab.worker.manager import get_manager

    mgr = get_manager(empty_env)
    cfg = TrainConfig(dataset="digits", epochs=1, snapshots=4, seed=7)
    job = Job("live-test", "train", "simclr on digits", root=str(empty_env), config=cfg, state="running",
              progress=Progress(3, 5, 0.6, 4.2, 900.0, 1.0, 0.7), losses=[5.0, 4.6, 4.2])  # fmt: skip
    mgr._jobs[job.key] = job  # as the worker's events would leave it mid-training
    try:
        at = page("train", my_job=job.key)
        assert not at.exception and "provisional layout appears here as it is taken" in texts(at)
        rng = np.random.default_rng(0)
        job.frames.append(LiveFrame(2, rng.normal(size=(50, 2)).astype(np.float32), np.arange(50) % 10))
        at.run()
        said = texts(at)
        assert "Live frame, provisional" in said and "snapshot 1 of 4" in said and "after step 2 of 5" in said
        assert "PCA" in said and "aligned UMAP timeline replaces" in said
        images = len(at.get("image"))
        job.frames.clear()
        at.run()
        assert len(at.get("image")) == images - 1  # the frame's image is gone with the frame
    finally:
        job.state = "cancelled"
        mgr._jobs.pop(job.key, None)
