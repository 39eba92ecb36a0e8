"""The lab modules behind the app: neighbour tables, maps, background jobs, exports."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from lab.measures import maps as measure_maps
from lab.measures import purity
from lab.measures.neighbours import knn_search
from lab.store import export, neighbours
from lab.store import maps as store_maps
from lab.store.runs import RunStore
from lab.view import thumbnails


@pytest.fixture()
def run(runs_dir):
    return next(r for r in RunStore(runs_dir).list() if r.config.method == "simclr")


def test_a_click_reads_the_same_neighbours_as_a_fresh_faiss_search(run):
    table = neighbours.stored_table(run, "backbone")
    assert table is not None and table.k == neighbours.KNN_K
    nb = neighbours.neighbours_of(run, 7, k=16)
    sims, idx = knn_search(run.features(), 16, query_rows=np.array([7]))
    assert nb.from_table and (nb.rows == idx[0]).all()
    np.testing.assert_allclose(nb.sims, sims[0], atol=1e-5)
    assert 7 not in nb.rows, "the clicked image is not its own neighbour"


def test_neighbours_fall_back_to_a_search_before_the_table_exists(run):
    neighbours.prepare_search(run, "projector")  # as the map page does before the first click
    nb = neighbours.neighbours_of(run, 3, k=8, space="projector")
    assert not nb.from_table and len(nb.rows) == 8
    sims, idx = knn_search(run.features("projector"), 8, query_rows=np.array([3]))
    assert (nb.rows == idx[0]).all(), "the cached index finds what a fresh faiss search finds"
    np.testing.assert_allclose(nb.sims, sims[0], atol=1e-5)
    assert nb.cross_class_share == pytest.approx(nb.other_class.mean())


def test_cross_class_share_is_one_minus_purity():
    labels = np.array([0, 0, 1, 1])
    nb = np.array([[1, 2], [0, 3], [3, 0], [2, 1]])
    np.testing.assert_allclose(purity.cross_class_share(nb, labels), [0.5, 0.5, 0.5, 0.5])
    assert purity.cross_class_share(np.array([1, 0]), labels, rows=2) == 1.0


def test_cross_class_pairs_differ_in_class_and_are_stored(run):
    pairs = neighbours.class_pairs(run, top=20)
    assert (run.labels[pairs.i] != run.labels[pairs.j]).all()
    assert (np.diff(pairs.cosine) <= 1e-6).all(), "best pair first"
    assert not run.is_test[pairs.i].any() and not run.is_test[pairs.j].any(), "training images only"
    np.testing.assert_allclose(purity.pair_cosines(run.features(), pairs.i, pairs.j), pairs.cosine, atol=1e-5)
    assert neighbours.stored_pairs(run, top=20) is not None


def test_the_map_is_stored_once_and_loaded_after(run):
    path = store_maps.map_path(run, "backbone")
    assert path.is_file()
    before = path.stat().st_mtime_ns
    xy = store_maps.run_map(run, "backbone")
    assert xy.shape == (len(run.labels), 2) and np.isfinite(xy).all()
    assert path.stat().st_mtime_ns == before


def test_a_stored_map_has_its_fidelity_beside_it(run):
    fid = store_maps.stored_fidelity(run, "backbone")
    assert fid is not None and fid["k"] == measure_maps.N_NEIGHBORS - 1 and fid["queries"] == len(run.labels)
    # a trained digits model's map keeps a good share of each image's neighbours, far above chance
    assert 14 / len(run.labels) * 5 < fid["neighbours_kept"] <= 1.0


def test_a_map_stored_without_its_fidelity_gets_it_from_the_knn_table(run):
    path = store_maps.fidelity_path(run, "backbone")
    stored = store_maps.stored_fidelity(run, "backbone")
    path.unlink()
    fid = store_maps.map_fidelity(run, "backbone")
    assert fid["graph"] == "exact" and path.is_file()
    assert fid["neighbours_kept"] == pytest.approx(
        stored["neighbours_kept"], abs=0.05
    )  # same map, exact graph


def test_neighbours_kept_is_one_for_the_data_itself_and_near_chance_for_a_shuffled_map():
    from sklearn.neighbors import NearestNeighbors

    x = np.random.default_rng(0).normal(size=(3000, 2)).astype(np.float32)
    idx = NearestNeighbors(n_neighbors=15).fit(x).kneighbors(x, return_distance=False)[:, 1:]  # self dropped
    assert measure_maps.neighbours_kept(idx, x, queries=1000) == pytest.approx(1.0)
    shuffled = np.random.default_rng(1).permutation(x)
    assert measure_maps.neighbours_kept(idx, shuffled, queries=1000) < 0.02  # chance is 14 / 3000


def test_the_map_layout_reports_its_progress_to_the_end():
    from lab.measures.neighbours import knn_search
    from lab.worker.manager import Job, _apply

    x = np.random.default_rng(0).normal(size=(600, 8)).astype(np.float32)
    sims, idx = knn_search(x, measure_maps.N_NEIGHBORS)
    seen = []
    measure_maps.umap_2d(x, knn=(idx, sims), epochs=50, progress=lambda f, left: seen.append((f, left)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and seen[-1][1] == 0.0
    job = Job("r/map/backbone", "map", "map")  # how the app shows it: a share done and a message
    _apply(job, {"event": "fraction", "fraction": 0.5, "text": "Laying out 600 points with UMAP: 50% done"})
    assert job.fraction == 0.5 and job.message.endswith("50% done")


def test_a_chromium_trace_gives_the_main_threads_longest_task_and_its_read_backs(tmp_path):
    import json

    from lab.bench.browser import main_thread_waits

    main, gpu = {"pid": 1, "tid": 1}, {"pid": 2, "tid": 5}
    events = [
        {**main, "ph": "M", "name": "thread_name", "args": {"name": "CrRendererMain"}},
        {**gpu, "ph": "M", "name": "thread_name", "args": {"name": "CrGpuMain"}},
        {
            **main,
            "ph": "X",
            "name": "ThreadControllerImpl::RunTask",
            "cat": "toplevel",
            "ts": 0,
            "dur": 200_000,
        },
        {**main, "ph": "X", "name": "GLES2::ReadPixels", "cat": "gpu", "ts": 10, "dur": 150_000},
        {
            **main,
            "ph": "X",
            "name": "ThreadControllerImpl::RunTask",
            "cat": "toplevel",
            "ts": 300_000,
            "dur": 40_000,
        },
        {**main, "ph": "X", "name": "GLES2::ReadPixels", "cat": "gpu", "ts": 300_010, "dur": 20_000},
        {
            **gpu,
            "ph": "X",
            "name": "ThreadControllerImpl::RunTask",
            "cat": "toplevel",
            "ts": 0,
            "dur": 900_000,
        },
    ]
    (tmp_path / "t.json").write_text(json.dumps({"traceEvents": events}))
    assert main_thread_waits(tmp_path / "t.json") == (200.0, 170.0)  # the GPU thread's task is not the page's


def test_map_class_purity_is_one_for_separate_clusters_and_chance_for_mixed_labels():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 500)
    centres = 50 * np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float32)
    xy = centres[labels] + rng.normal(size=(2000, 2)).astype(np.float32)
    assert measure_maps.map_class_purity(xy, labels, queries=500) == pytest.approx(1.0)
    mixed = measure_maps.map_class_purity(xy, rng.permutation(labels), queries=500)
    assert abs(mixed - 0.25) < 0.03  # chance: 1 in 4


def test_thumbnails_are_sharp_rgb_and_framed():
    img = np.zeros((1, 4, 4), np.uint8)
    img[0, 1, 1] = 200
    t = thumbnails.thumbnail(img, scale=3, frame=(255, 0, 0), border=1)
    assert t.shape == (12, 12, 3) and t.dtype == np.uint8
    assert (t[0, 0] == (255, 0, 0)).all() and (t[3:6, 3:6] == 200).all()


def test_exports_round_trip(run):
    x = run.features("backbone")
    assert np.array_equal(np.load(io.BytesIO(export.npy_bytes(x))), x)
    xy = store_maps.run_map(run, "backbone")
    lines = export.embeddings_csv(run, "backbone", xy).decode().splitlines()
    assert lines[0].startswith("row,split,index,label,class,map_x,map_y,f0,")
    assert len(lines) == len(run.labels) + 1
    doc = json.loads(export.metrics_json(run))
    assert doc["run_id"] == run.id and "pixels" in doc["metrics"]
    pairs = neighbours.class_pairs(run, top=20)
    assert export.pairs_csv(pairs, run.labels, [str(i) for i in range(10)]).decode().startswith("rank,row_i")


def test_png_export_is_offered_only_when_kaleido_finds_a_chromium(monkeypatch):
    pytest.importorskip("kaleido")
    from choreographer.browsers.chromium import Chromium

    monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, **kw: None))
    assert not export.png_available()
    monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, **kw: "/usr/bin/chromium"))
    assert export.png_available()


def test_png_export_writes_a_png_of_the_figure():
    if not export.png_available():
        pytest.skip("kaleido finds no Chromium here (apt-get install chromium)")
    import plotly.graph_objects as go

    png = export.figure_png(go.Figure(go.Scatter(x=[0, 1], y=[1, 0])), width=300, height=200)
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 300 and int.from_bytes(png[20:24], "big") == 200


def test_a_diverging_run_becomes_a_failed_event_with_the_lab_message(runs_dir, monkeypatch):
    import lab.store.runs
    from lab.core.config import TrainConfig
    from lab.core.train import TrainingDiverged
    from lab.worker.process import handle

    def diverge(*args, **kwargs):
        raise TrainingDiverged("The loss became nan at step 3 of 15. Lower the learning rate.")

    monkeypatch.setattr(lab.store.runs, "train", diverge)
    events = []
    cfg = TrainConfig(dataset="digits", epochs=1, batch_size=256, seed=99)
    req = {
        "kind": "train",
        "root": str(runs_dir),
        "config": cfg.to_dict(),
        "key": "k",
        "space": "backbone",
    }
    handle(req, lambda **e: events.append(e), lambda: False)
    assert events[-1] == {
        "event": "failed",
        "error": "The loss became nan at step 3 of 15. Lower the learning rate.",
    }


def test_the_same_config_twice_is_one_job_and_cancel_drops_a_queued_one(tmp_path):
    from lab.core.config import TrainConfig
    from lab.worker.manager import _WORKER, Job, get_manager

    mgr = get_manager(tmp_path)
    with _WORKER.cv:  # hold the queue so nothing starts while we look
        cfg = TrainConfig(dataset="digits", epochs=1, batch_size=256, seed=123)
        a = Job("x", "train", "t", config=cfg)
        mgr._jobs["x"] = a
        assert mgr._enqueue(Job("x", "train", "t", config=cfg)) is a
        a.cancel()
        assert a.state == "cancelled" and not a.active


def test_an_error_taking_in_a_worker_event_fails_that_job_and_the_next_job_still_finishes(
    tmp_path, monkeypatch
):
    """The thread that reads the worker's events must outlive a fault in handling one of them:
    otherwise the job, and every job queued after it, would show "running" forever."""
    from lab.worker import manager as jobs

    def broken(self, job, needs):
        raise RuntimeError("planted fault")

    monkeypatch.setattr(jobs.JobManager, "_after_training", broken)
    worker = jobs._Worker()
    first = jobs.Job("a", "train", "t", root=str(tmp_path))
    second = jobs.Job("b", "map", "m", root=str(tmp_path))

    def lines():
        worker.current = first
        yield json.dumps({"key": "a", "event": "done", "text": "Trained and stored."}) + "\n"
        worker.current = second
        yield json.dumps({"key": "b", "event": "done", "text": "Map ready."}) + "\n"

    class Proc:
        stdout, returncode = lines(), 0

        def wait(self):
            return 0

    worker._read(Proc())
    assert first.state == "failed" and "RuntimeError: planted fault" in first.error
    assert first._finished.is_set()
    assert second.state == "done" and second.message == "Map ready."


def test_a_worker_that_cannot_start_fails_the_job_with_a_message(tmp_path, monkeypatch):
    from lab.worker import manager as jobs

    worker = jobs._Worker()

    def no_python(self):
        raise OSError("[Errno 2] No such file or directory: 'python'")

    monkeypatch.setattr(jobs._Worker, "_start_process", no_python)
    job = jobs.Job("a", "map", "m", root=str(tmp_path))
    worker.submit(job)
    assert job._finished.wait(10)
    assert job.state == "failed" and "could not be started" in job.error and "No such file" in job.error


def _proc_state(pid: int) -> str:
    """A process's state letter from /proc (Linux): R running, S sleeping, T stopped."""
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGSTOP"), reason="needs POSIX signals")
def test_a_hold_stops_a_background_job_for_its_time_then_it_runs_on(tmp_path):
    """The map's clicks pause background work (lab.worker.manager._Worker.hold): the worker gets no CPU while
    held, runs again when the hold ends, a second hold extends the first, and training is never held."""
    import subprocess
    import sys
    import time

    from lab.worker import manager as jobs

    worker = jobs._Worker()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        worker.proc, worker.current = busy, jobs.Job("r/pairs/backbone", "pairs", "p", root=str(tmp_path))
        time.sleep(0.2)
        assert worker.hold(0.6)
        time.sleep(0.1)
        assert _proc_state(busy.pid) == "T"
        ticks = _cpu_ticks(busy.pid)
        time.sleep(0.3)
        assert worker.hold(0.6)  # extends: now until about 0.9 s after the first hold
        time.sleep(0.4)
        assert _proc_state(busy.pid) == "T" and _cpu_ticks(busy.pid) == ticks
        deadline = time.monotonic() + 5
        while _proc_state(busy.pid) == "T" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _proc_state(busy.pid) in "RS" and worker.held_pid is None
        time.sleep(0.3)
        assert _cpu_ticks(busy.pid) > ticks  # it computes again

        worker.current = jobs.Job("t", "train", "t", root=str(tmp_path))
        assert not worker.hold(5) and _proc_state(busy.pid) != "T"  # training runs on
        worker.current = jobs.Job("r/scores", "scores", "s", root=str(tmp_path))
        assert worker.hold(5) and _proc_state(busy.pid) == "T"
        worker.release()  # what a cancel or the app's exit does
        assert _proc_state(busy.pid) != "T" and worker.held_pid is None
    finally:
        busy.kill()
        busy.wait()


def test_a_background_job_queued_during_a_hold_starts_when_it_ends(tmp_path, monkeypatch):
    import time

    from lab.worker import manager as jobs

    worker = jobs._Worker()
    started = []
    monkeypatch.setattr(jobs._Worker, "_start_process", lambda self: setattr(self, "proc", None))

    def send(self, msg):
        started.append((msg["key"], time.monotonic()))
        job = self.current
        job.state = "done"
        job._finished.set()

    monkeypatch.setattr(jobs._Worker, "_send", send)
    t0 = time.monotonic()
    assert not worker.hold(0.8)  # nothing runs yet: the hold only gates what starts
    job = jobs.Job("r/pairs/backbone", "pairs", "p", root=str(tmp_path))
    worker.submit(job)
    time.sleep(0.3)
    assert not started and job.state == "queued" and "explore the map" in job.message
    assert job._finished.wait(5)
    assert started[0][0] == job.key and started[0][1] - t0 >= 0.75


def test_the_jobs_benchmark_times_each_background_job_of_a_default_run(tmp_path):
    from lab.bench import jobs as bench_jobs

    rows = bench_jobs.run(tmp_path, "digits")
    assert [r[0] for r in rows] == [
        "worker start and warm-up", "training job (load, train, embed, store)", "map job", "scores job", "table job",
    ]  # fmt: skip
    assert all(r[1] >= 0 for r in rows) and "images/s on" in rows[1][2]
    assert all(r[2].startswith("done") for r in rows[2:])
    run = RunStore(tmp_path).list()[0]
    assert (
        store_maps.stored_map(run, "backbone") is not None
        and neighbours.stored_table(run, "backbone") is not None
    )


def test_a_click_arrives_as_customdata_with_the_row():
    from pages.ui.state import row_from_selection

    assert row_from_selection({"selection": {"points": [{"customdata": {"0": 42}}]}}) == 42
    assert row_from_selection({"selection": {"points": [{"customdata": [7]}]}}) == 7
    assert row_from_selection({"selection": {"points": []}}) is None
    assert row_from_selection(None) is None


def test_training_progress_is_batched_but_keeps_every_steps_loss(monkeypatch):
    """The worker reports at most every PROGRESS_EVERY_S seconds (a message per step slowed training
    on 2 cores), yet the app's loss curve still receives one loss per step, the last step included."""
    from lab.core.train import Progress
    from lab.worker import kinds
    from lab.worker import manager as jobs

    clock = iter(np.arange(0, 100, 0.1))  # 10 steps per simulated second
    monkeypatch.setattr(kinds.time, "monotonic", lambda: float(next(clock)))
    events = []
    report = kinds.batched_progress(lambda **e: events.append(e))
    for step in range(1, 31):
        report(Progress(step, 30, step / 30, float(step), 100.0, step * 0.1, 0.0))
    assert 2 <= len(events) <= 30 // 5 + 2
    assert [loss for e in events for loss in e["losses"]] == [float(s) for s in range(1, 31)]
    assert events[-1]["progress"]["step"] == 30
    job = jobs.Job("k", "train", "t", root="r")
    for e in events:
        jobs._apply(job, {"event": "progress", **e})
    assert job.losses == [float(s) for s in range(1, 31)] and job.progress.step == 30


def test_the_worker_says_what_a_trained_run_lacks_and_the_app_thread_reads_no_npy(run, monkeypatch):
    """numpy parses an .npy header with ast; in the app's event thread that raced Streamlit's script
    parsing ("AST constructor recursion depth mismatch" on CPython 3.11). So the worker reports what
    a run lacks, and the app's thread reads JSON only."""
    from lab.worker import manager as jobs
    from lab.worker import process

    events = []
    req = {"kind": "train", "key": run.id, "root": str(run.path.parent), "config": run.config.to_dict()}
    process.run_request(req, lambda **e: events.append(e), lambda: False)  # stored: loaded, not trained
    expected = [k for k, missing in (("map", store_maps.stored_map(run) is None), ("scores", bool(run.pending)),
                                     ("table", neighbours.stored_table(run) is None)) if missing]  # fmt: skip
    assert events[-1]["event"] == "done" and events[-1]["needs"] == expected

    def no_npy(*args, **kwargs):
        raise AssertionError("the app's event thread read an .npy file")

    monkeypatch.setattr(np, "load", no_npy)
    job = jobs.Job(run.id, "train", "t", root=str(run.path.parent))
    with jobs._WORKER.cv:  # hold the queue so nothing starts while we look
        jobs._apply(job, {**events[-1], "needs": ["map", "table"]})
        queued = [j for j in jobs._WORKER.queue if j.run is job.run]
        for j in queued:
            j.cancel()
    assert job.state == "done" and job.run.id == run.id
    assert [j.kind for j in queued] == ["map", "table"]


def test_after_training_the_map_is_queued_first_then_the_scores_and_the_exact_table(run, tmp_path):
    from lab.worker.manager import _WORKER, Job, get_manager

    mgr = get_manager(tmp_path)
    with _WORKER.cv:  # hold the queue so nothing starts while we look
        mgr._after_training(Job(run.id, "train", "t", run=run), ["table", "scores", "map"])
        front = list(_WORKER.queue)[:3]
        for job in front:
            job.cancel()
    assert [j.kind for j in front] == ["map", "scores", "table"]
    assert all(j.run is run for j in front)


def test_the_live_loss_curve_draws_every_step_within_its_frame_and_labels_the_range():
    import re

    from lab.view.figures import live_loss_svg

    losses = [6.0, 5.0, 5.5, 4.0]
    svg = live_loss_svg(losses, total_steps=10, width=300, height=120)
    points = re.search(r'<polyline [^>]*points="([^"]+)"', svg).group(1).split()
    xy = np.array([[float(v) for v in p.split(",")] for p in points])
    assert len(xy) == 4 and (np.diff(xy[:, 0]) > 0).all(), "one vertex per step, left to right"
    assert xy[:, 0].max() < 300 / 2, "4 of 10 steps fill under half of the width"
    assert xy[3, 1] == xy[:, 1].max() and xy[0, 1] == xy[:, 1].min(), "the lowest loss is drawn lowest"
    assert ">6.000<" in svg and ">4.000<" in svg and ">step 10<" in svg
    long = live_loss_svg(np.linspace(5, 1, 5000), total_steps=5000)
    assert len(re.search(r'points="([^"]+)"', long).group(1).split()) <= 801
    assert "<polyline" not in live_loss_svg([], total_steps=10) and live_loss_svg([], 10).endswith("</svg>")


def test_the_browser_benchmark_reads_the_workers_timeline_from_the_app_log():
    import time

    from lab.bench.browser import worker_timeline

    since = time.mktime((2026, 11, 24, 0, 46, 0, 0, 0, -1))
    log = (
        "Uvicorn server started\n"
        "[lab worker 00:45:58.7     4.0 s] warm-up warm-up: done UMAP and torch are warm (4 s).\n"
        "[lab worker 00:46:06.1    41.4 s] train c9e132da21ec: message Embedding the evaluation images...\n"
        "[lab worker 00:46:19.9    55.2 s] scores c9e132da21ec/scores: started\n"
        "[lab worker 00:46:19.9    55.2 s] map c9e132da21ec/map/backbone: done Map ready.\n"
    )
    got = worker_timeline(log, since)
    assert [round(t, 1) for t, _ in got] == [-1.3, 6.1, 19.9], "the scores job is left out"
    assert got[1][1] == "train: message Embedding the evaluation images..."
    late = worker_timeline(
        "[lab worker 00:00:01.0  1.0 s] map m: started\n", time.mktime((2026, 11, 23, 23, 59, 59, 0, 0, -1))
    )
    assert round(late[0][0], 1) == 2.0, "a line written after midnight"


def test_the_browser_benchmark_knows_when_the_worker_is_done_with_a_run(tmp_path):
    from lab.bench.browser import AFTER_MAP_FILES, jobs_pending

    (tmp_path / "metrics.json").write_text(json.dumps({"pending_scores": ["linear_acc"]}))
    assert jobs_pending(tmp_path)
    for name in AFTER_MAP_FILES:
        (tmp_path / name).write_bytes(b"")
    assert jobs_pending(tmp_path), "the scores are still pending"
    (tmp_path / "metrics.json").write_text(json.dumps({"linear_acc": 0.8}))
    assert not jobs_pending(tmp_path)
