"""The registry of job kinds: what the worker process can run, by name.

The lab's own kinds are here (warm-up, train, map, scores, table, pairs); each paper adds its
kinds through its entry in lab.papers (`Paper.job_kinds`). The worker looks a request's kind up
with `get_kind`; nothing dispatches on kind names elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable

from lab.core.config import TrainConfig, default_config
from lab.core.data import DatasetUnavailable
from lab.core.registry import by_name
from lab.core.train import Progress, TrainingCancelled, warm_up_training
from lab.worker.job import JobKind, JobRequest

PROGRESS_EVERY_S = 0.5


def _warm_up(req: JobRequest) -> None:
    from lab.measures.maps import warm_up_umap
    from lab.store.baselines import pixel_baseline

    req.say("Compiling UMAP's kernels (numba; once per app start, mostly from its disk cache)...")
    seconds = warm_up_umap()
    req.say("Loading torch's optimiser code (once per app start)...")
    seconds += warm_up_training()
    # The default dataset's raw-pixel baseline, shown beside every run, is computed once per runs
    # folder; doing it now keeps it off the first training's wait. (The app tests turn it off with
    # LAB_WARM_UP_BASELINE=0: they train on digits.)
    cfg = default_config()
    if os.environ.get("LAB_WARM_UP_BASELINE", "1") != "0":
        with contextlib.suppress(DatasetUnavailable):  # no Fashion-MNIST: nothing to prepare
            req.say(f"Scoring the raw-pixel baseline of {cfg.dataset} (once)...")
            pixel_baseline(cfg.dataset, cfg.subset, cfg.seed, root=req.store.root)
    req.done(f"UMAP and torch are warm ({seconds:.0f} s).")


def batched_progress(emit) -> Callable[[Progress], None]:
    """A training progress callback that reports at most every PROGRESS_EVERY_S seconds, with every
    step's loss since the last report. Measured: a message per step, and the app redrawing for each,
    took enough of the second core to halve the training speed on 2 cores."""
    pending: list[float] = []
    last = [0.0]

    def report(p: Progress) -> None:
        pending.append(p.loss)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or p.step >= p.total_steps:
            emit(event="progress", progress=dataclasses.asdict(p), losses=pending.copy())
            pending.clear()
            last[0] = now

    return report


LIVE_POINTS = 2_000  # points of the probe set in a live frame: enough to see clusters form, small to send


def live_frames(emit) -> Callable:
    """A snapshot callback (lab.core.train.train's on_snapshot) that sends each snapshot's provisional
    layout to the app as a "frame" event as soon as it is taken: PCA-2, turned to match the frame before
    (lab.measures.over_training.coarse_layout, milliseconds), on LIVE_POINTS evenly spread rows of the
    probe set. The aligned UMAP timeline, computed after training, replaces these frames."""
    import numpy as np

    from lab.measures.over_training import coarse_layout

    previous = [None]

    def send(step: int, h, labels) -> None:
        xy = previous[0] = coarse_layout(h, previous[0])
        keep = np.linspace(0, len(xy) - 1, min(LIVE_POINTS, len(xy))).astype(int)
        emit(event="frame", step=int(step), xy=np.round(xy[keep], 3).tolist(), labels=labels[keep].tolist())

    return send


def _train(req: JobRequest) -> None:
    from lab.store.maps import stored_map
    from lab.store.neighbours import stored_table
    from lab.store.timeline import has_snapshots, stored_timeline

    req.say("Loading the dataset...")
    run, was_stored = req.store.get_or_train(
        TrainConfig.from_dict(req.config),
        progress=batched_progress(req.emit),
        should_stop=req.should_stop,
        status=req.say,
        defer_scores=True,
        on_snapshot=live_frames(req.emit),
    )
    # What the run still lacks is read here, in the worker: the app's event thread reads no .npy file
    # (see lab.worker.manager._apply).
    needs = [kind for kind, missing in (("map", stored_map(run, "backbone") is None),
                                        ("scores", bool(run.pending)),
                                        ("table", stored_table(run, "backbone") is None),
                                        ("timeline", has_snapshots(run) and stored_timeline(run) is None))
             if missing]  # fmt: skip
    req.done(
        "Stored." if was_stored else "Trained and stored.", run_id=run.id, was_stored=was_stored, needs=needs
    )


def _map(req: JobRequest) -> None:
    from lab.store.maps import run_map

    what = f"Laying out {len(req.run.labels):,} points with UMAP"
    req.say(f"{what}...")

    def layout_progress(fraction: float, seconds_left: float) -> None:
        left = f" · about {seconds_left:.0f} s left" if fraction > 0 else ""
        req.fraction(fraction, f"{what}: {fraction:.0%} done{left}")

    run_map(req.run, req.space, progress=layout_progress)
    req.done("Map ready.")


def _scores(req: JobRequest) -> None:
    req.say("Scoring the run: kNN accuracy on h and z, then the linear probe...")
    req.store.complete_scores(req.run.id)
    req.done("Scores ready.")


def _table(req: JobRequest) -> None:
    from lab.store.neighbours import neighbour_table

    req.say(f"Finding the nearest neighbours of all {len(req.run.labels):,} images (exact cosine)...")
    neighbour_table(req.run, req.space)
    req.done("Neighbours ready.")


def _pairs(req: JobRequest) -> None:
    from lab.store.neighbours import class_pairs

    req.say("Ranking the most similar pairs of images from different classes...")
    class_pairs(req.run, req.space)
    req.done("Pairs ready.")


def _label_probes(req: JobRequest) -> None:
    from lab.store.baselines import pixel_baseline_of
    from lab.store.label_probes import label_probes

    label_probes(req.run, pixel_baseline_of(req.run), progress=req.fraction)
    req.done("Probes ready.")


def _timeline(req: JobRequest) -> None:
    """The run's training timeline (lab.store.timeline); an interrupted one resumes at its first
    missing frame, since every frame is stored as it is done."""
    from lab.store.baselines import pixel_baseline_of
    from lab.store.timeline import timeline

    if req.run.snapshots() is None:
        raise ValueError(f"run {req.run.id} was trained without snapshots; train it with --snapshots 8.")
    timeline(req.run, pixel_baseline_of(req.run), progress=req.fraction)
    req.done("Timeline ready.")


def _sweep(req: JobRequest) -> None:
    """One run of a sweep (its first missing config), then done with how many are left: the app queues
    the sweep again behind whatever else was asked for meanwhile (lab.worker.manager)."""
    from lab.sweep.grid import Sweep, save_sweep
    from lab.sweep.runner import train_next

    sweep = Sweep(**req.params["sweep"])
    last = [0.0]

    def report(sp) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            req.fraction(sp.fraction, sp.text)

    save_sweep(sweep, req.store, "running")
    try:
        run, left = train_next(sweep, req.store, report, req.should_stop)
    except TrainingCancelled:
        save_sweep(sweep, req.store, "cancelled")
        raise
    if left == 0:
        save_sweep(sweep, req.store, "done")
    n = len(sweep.configs())
    req.done(f"Sweep: {n - left} of {n} runs stored." if left else f"Sweep done: all {n} runs stored.",
             left=left, trained=run.id if run else None)  # fmt: skip


def _budget(req: JobRequest) -> None:
    """Measure this machine's speed for a config and keep the epochs that fit a time budget (the Train
    page's "a time budget"; lab.store.budget). Works on settings, not a run."""
    from lab.core.config import TrainConfig
    from lab.store.budget import resolve_budget

    cfg = resolve_budget(TrainConfig.from_dict(req.params["config"]), req.params["seconds"], req.store.root,
                         log=req.say)  # fmt: skip
    req.done(f"A {req.params['seconds']:g}-s budget is {cfg.epochs:g} epochs here.")


CORE_KINDS = (
    JobKind("warm-up", _warm_up, "numba's UMAP kernels, torch's optimiser code, the default pixel baseline"),
    JobKind("train", _train, "train a config (or load it when stored), then store its run"),
    JobKind("map", _map, "the UMAP map of a run's space"),
    JobKind("scores", _scores, "the scores a run stored with deferred scoring lacks"),
    JobKind("table", _table, "the exact kNN table of a run's space"),
    JobKind("pairs", _pairs, "the cross-class nearest pairs of a run's space"),
    JobKind(
        "sweep", _sweep, "the next missing run of a sweep (the app queues the sweep again until none is left)"
    ),
    JobKind("timeline", _timeline, "a run's training movie: an aligned layout and the measures per snapshot"),
    JobKind(
        "label-probes", _label_probes, "linear and kNN probes of every label set of a run, on h, z and pixels"
    ),
    JobKind("budget", _budget, "this machine's speed for a config: the epochs that fit a time budget"),
)


def job_kinds() -> dict[str, JobKind]:
    """Every kind the worker runs: the lab's own, then each paper's (lab.papers)."""
    from lab.papers import paper_job_kinds

    return by_name(CORE_KINDS, paper_job_kinds(), "Job kind")


def get_kind(name: str) -> JobKind:
    kinds = job_kinds()
    if name not in kinds:
        raise ValueError(f"Unknown job kind '{name}'. Known: {', '.join(kinds)}.")
    return kinds[name]
