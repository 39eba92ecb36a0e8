"""lab.worker: one job per key, failures said in plain words, holds that stop background work while a
map is clicked, batched training progress, and what a trained run still needs, queued in order."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lab.store import maps as store_maps
from lab.store import neighbours


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


def test_a_snapshot_taken_while_training_reaches_the_job_as_a_provisional_frame():
    """The worker sends each snapshot's coarse layout as it is taken (kinds.live_frames), at most
    LIVE_POINTS points; the app keeps them on the training job in step order."""
    from lab.worker import kinds
    from lab.worker import manager as jobs

    events = []
    send = kinds.live_frames(lambda **e: events.append(e))
    rng = np.random.default_rng(0)
    h = rng.normal(size=(3000, 16)).astype(np.float16)
    for step in (4, 8):
        send(step, h, np.arange(3000) % 10)
    assert [e["step"] for e in events] == [4, 8] and len(events[0]["xy"]) == kinds.LIVE_POINTS
    job = jobs.Job("k", "train", "t", root="r")
    for e in events:
        jobs._apply(job, json.loads(json.dumps({"key": "k", **e})))  # through JSON, as from the process
    assert [f.step for f in job.frames] == [4, 8] and job.frames[1].xy.shape == (kinds.LIVE_POINTS, 2)
    assert np.abs(job.frames[1].xy - job.frames[0].xy).max() < 1e-2  # the same features: the same frame
