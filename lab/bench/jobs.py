"""`python -m lab bench-jobs`: the app's background path timed without a browser.

The same jobs, in the same worker process, that the app queues when a user clicks "Start
training": the worker's start-up warm-up (UMAP's kernels, torch's optimiser code, the raw-pixel
baseline), then the default training job, then the run's map, its deferred scores and its exact kNN
table. Over a fresh temporary runs folder. It measures what a browser cannot separate from its own
drawing (use `bench-browser` for what a user sees), and it runs where no browser is installed, a
GPU machine for one.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from lab.core.config import default_config
from lab.worker.manager import ACTIVE, Job, get_manager


def _wait(job: Job | None, poll: float = 0.05) -> None:
    while job is not None and job.state in ACTIVE:
        time.sleep(poll)


def run(root: Path, dataset: str = "fashion-mnist") -> list[tuple[str, float, str]]:
    """(what, seconds, note) for the warm-up, then each job of a default run of `dataset`."""
    mgr = get_manager(root)
    rows = []
    t0 = time.perf_counter()
    warm = mgr.start_warm_up()
    _wait(warm)
    rows.append(("worker start and warm-up", time.perf_counter() - t0, warm.state))
    t1 = time.perf_counter()
    job = mgr.submit_training(default_config(dataset))
    _wait(job)
    if job.run is None:
        raise RuntimeError(f"the training job ended {job.state}: {job.error}")
    m = job.run.metrics
    rows.append(("training job (load, train, embed, store)", time.perf_counter() - t1,
                 f"training {m['train_seconds']} s at {m['images_per_s']:,.0f} images/s on {m['device']}"))  # fmt: skip
    for kind, key in (("map", "map/backbone"), ("scores", "scores"), ("table", "table/backbone")):
        j = mgr.job(f"{job.run.id}/{key}")
        _wait(j)
        if j is None:
            rows.append((f"{kind} job", float("nan"), "not queued (already stored)"))
            continue
        rows.append((f"{kind} job", j.finished_at - j.started_at,
                     f"{j.state}; done {time.perf_counter() - t1:.1f} s after the training job was submitted"))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lab bench-jobs", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--keep", action="store_true", help="keep the temporary runs folder")
    args = p.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="lab-bench-jobs-"))
    try:
        rows = run(root, args.dataset)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nThe app's background jobs for a default {args.dataset} run (fresh runs folder, no browser):")
    for what, seconds, note in rows:
        print(f"  {what:42s} {seconds:7.1f} s   {note}")
    if args.keep:
        print(f"runs kept in {root}")
    return 0
