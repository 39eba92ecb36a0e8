"""What a job kind is, and what its work function gets: the worker's side of one request.

A leaf module (it imports no paper and no other worker module), so that papers can declare job
kinds without an import cycle: lab.worker.kinds is the registry that collects them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lab.store.runs import Run, RunStore


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
