"""`python -m lab bench-timeline`: how soon a default run's training timeline is ready after its training.

Over a fresh temporary runs folder, in the app's worker process: the warm-up, a default run trained with
8 snapshots of the 5,000-image probe set, then the timeline job (lab.store.timeline) asked for the moment
training ends, behind what the app queues before it then (map, scores; the kNN table comes after it). Prints the timeline job's own
seconds and the seconds from the end of training to the timeline stored, against the 30 s target, and
the same timeline asked for on its own once those jobs are done (its cache removed first). With
--browser, then the Map page's step slider in chromium: a move to the new frame drawn, against 0.3 s
(lab.bench.browser_timeline).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path

from lab.core.config import default_config
from lab.worker.manager import ACTIVE, get_manager

TARGET_S = 30.0


def _wait(job, poll: float = 0.05) -> None:
    while job is not None and job.state in ACTIVE:
        time.sleep(poll)


def _wait_idle(mgr, poll: float = 0.2) -> None:
    while mgr.busy():
        time.sleep(poll)


def run(root: Path, dataset: str = "fashion-mnist", snapshots: int = 8) -> list[tuple[str, float, str]]:
    from lab.store.timeline import _folder

    mgr = get_manager(root)
    _wait(mgr.start_warm_up())
    cfg = default_config(dataset)
    job = mgr.submit_training(cfg.__class__.from_dict({**cfg.to_dict(), "snapshots": snapshots}))
    _wait(job)
    if job.run is None:
        raise RuntimeError(f"the training job ended {job.state}: {job.error}")
    trained_at, run = job.finished_at, job.run
    tl = mgr.request("timeline", run, "training timeline")
    _wait(tl)
    rows = [("training job", job.finished_at - job.started_at, f"{run.metrics['train_seconds']} s of training"),
            ("timeline job (queued at the end of training)", tl.finished_at - tl.started_at, tl.state),
            ("end of training to timeline stored", tl.finished_at - trained_at,
             f"behind the jobs marked ahead; target {TARGET_S:g} s")]  # fmt: skip
    for kind in ("map/backbone", "scores"):
        j = mgr.job(f"{run.id}/{kind}")
        if j is not None and j.finished_at:
            where = "ahead of it" if j.finished_at <= tl.started_at else "after it"
            rows.append((f"  {kind.split('/')[0]} job {where}", j.finished_at - j.started_at, j.state))
    shutil.rmtree(_folder(run))
    again = mgr.request("timeline", run, "training timeline again")
    _wait(again)
    rows.append(("timeline job alone (cache removed)", again.finished_at - again.started_at, again.state))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lab bench-timeline", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--snapshots", type=int, default=8)
    p.add_argument("--keep", action="store_true", help="keep the temporary runs folder")
    p.add_argument("--browser", action="store_true",
                   help="then time the Map page's step slider in chromium (lab.bench.browser_timeline)")  # fmt: skip
    args = p.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="lab-bench-timeline-"))
    shot = root.parent / f"{root.name}-map-timeline.png"
    try:
        rows = run(root, args.dataset, args.snapshots)
        if args.browser:
            from lab.bench.browser_timeline import measure

            _wait_idle(get_manager(root))  # the run's kNN table, after the timeline: not during the moves
            rows += measure(root, shots=shot)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nTraining timeline of a default {args.dataset} run with {args.snapshots} snapshots "
          f"({time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}):")  # fmt: skip
    for what, seconds, note in rows:
        print(f"  {what:48s} {seconds:7.{2 if seconds < 10 else 1}f} s   {note}")
    if args.browser:
        print(f"  screenshot of the Map page after the moves: {shot}")
    return 0
