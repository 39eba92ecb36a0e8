"""lab.bench: what the benchmarks read from chromium traces, the app log and the runs folder, and the
jobs benchmark on a tiny run."""

from __future__ import annotations

import json

import pytest

from lab.store import maps as store_maps
from lab.store import neighbours
from lab.store.runs import RunStore


def test_a_chromium_trace_gives_the_main_threads_longest_task_and_its_read_backs(tmp_path):
    import json

    from lab.bench.browser_probes import main_thread_waits

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


@pytest.mark.trains
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


def test_the_browser_benchmark_reads_the_workers_timeline_from_the_app_log():
    import time

    from lab.bench.browser_probes import worker_timeline

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
