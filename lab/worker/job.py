"""A job as the app sees it (Job), what a job kind is (JobKind), and what its work function gets in
the worker process (JobRequest).

A leaf module (it imports no paper and no other worker module), so that papers can declare job
kinds without an import cycle: lab.worker.kinds is the registry that collects them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lab.core.config import TrainConfig
from lab.core.train import Progress
from lab.store.runs import Run, RunStore

ACTIVE = ("queued", "running")


@dataclass
class JobRequest:
    """One job as the worker process runs it. `emit(event=..., ...)` reports to the app."""

    kind: str
    key: str
    store: RunStore
    emit: Callable[..., None]
    should_stop: Callable[[], bool]
    space: str = "backbone"
    config: dict | None = None  # a training job's TrainConfig as a dict
    run_id: str | None = None
    params: dict = field(default_factory=dict)
    _run: Run | None = field(default=None, repr=False)

    @property
    def run(self) -> Run:
        """The run the job works on, loaded (and checked) once."""
        if self._run is None:
            if self.run_id is None:
                raise ValueError(f"a '{self.kind}' job needs a run.")
            self._run = self.store.load(self.run_id)
        return self._run

    def rep(self):
        """The representation the job measures: the run, or with params["rep"] == "pixels" the raw-pixel
        baseline on the run's images (lab.store.baselines.pixel_baseline_of)."""
        if self.params.get("rep") == "pixels":
            from lab.store.baselines import pixel_baseline_of

            return pixel_baseline_of(self.run)
        return self.run

    def say(self, text: str) -> None:
        self.emit(event="message", text=text)

    def fraction(self, fraction: float, text: str) -> None:
        self.emit(event="fraction", fraction=float(min(max(fraction, 0.0), 1.0)), text=text)

    def done(self, text: str, **extra) -> None:
        self.emit(event="done", text=text, **extra)


@dataclass(frozen=True)
class JobKind:
    """A kind of background work, by name: `work(request)` runs in the worker process and ends with
    request.done(...) (or raises; the worker turns that into a 'failed' event)."""

    name: str
    work: Callable[[JobRequest], None]
    summary: str


@dataclass(frozen=True)
class LiveFrame:
    """A snapshot's provisional layout, sent while its run trains (lab.worker.kinds.live_frames)."""

    step: int
    xy: np.ndarray  # [m, 2] float32, a coarse layout (PCA-2) of m rows of the probe set
    labels: np.ndarray  # [m] their classes


@dataclass
class Job:
    """One unit of background work, kept up to date by the app's worker thread; pages read it."""

    key: str
    kind: str  # a name in lab.worker.kinds: "train", "map", "scores", ..., or a paper's
    title: str
    root: str = ""
    config: TrainConfig | None = None
    run: Run | None = None  # input of map/pairs jobs, result of a training job
    space: str = "backbone"
    params: dict = field(default_factory=dict)  # the kind's own inputs (JSON values)
    state: str = "queued"  # queued, running, done, failed, cancelled
    message: str = "Waiting for the worker..."
    error: str | None = None
    progress: Progress | None = None  # a training job's
    fraction: float | None = None  # share done of another job that reports it (the map's layout)
    losses: list[float] = field(default_factory=list)
    frames: list[LiveFrame] = field(default_factory=list)  # a training job's live frames, in step order
    was_stored: bool = False
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    _cancel_hook: object = field(default=None, repr=False)
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def cancel(self) -> None:
        """Stop the job: a queued job is dropped; a training job stops between two steps."""
        if self.state == "queued":
            self.state, self.message, self.finished_at = (
                "cancelled",
                "Cancelled before it started.",
                time.time(),
            )
        elif self.state == "running" and callable(self._cancel_hook):
            self.message = "Cancelling..."
            self._cancel_hook()

    def request(self) -> dict:
        return {"op": "run", "key": self.key, "kind": self.kind, "root": self.root, "space": self.space,
                "config": self.config.to_dict() if self.config else None,
                "run_id": self.run.id if self.run else None, "params": self.params}  # fmt: skip
