"""Background work for the app: training, then the run's kNN table and map, one job at a time.

The app must never freeze while a model trains, so every heavy step runs in ONE long-lived
worker process (`python -m lab.jobs`), and the pages only read `Job` objects (progress, ETA,
loss history, errors) that a thread of the app keeps up to date from the worker's messages.
Why a process and not a thread: measured here, training in a thread of the Streamlit server
ran 7x slower than the CLI (the server's threads and the training loop share one interpreter
lock, and torch's two threads stall when anything else holds a core); and numba compiles
(UMAP) parse Python source in a way that is not thread-safe on Python 3.11.7 next to
Streamlit's own script parsing ("AST constructor recursion depth mismatch").

- Jobs are keyed: a training job by its run id, a map job by run id and space. Asking for a key
  already queued or running returns that job, so two tabs or sessions asking for the same config
  share one training. (Across app processes, RunStore's file lock does the same.)
- Different jobs queue and run one after another: on 2 cores, two thread-hungry jobs side by
  side are slower than the same two in turn.
- A training job stores its run as soon as the headline score (kNN accuracy on h) is known.
  Then the run's backbone map is queued first, so the map is usually ready when the user
  arrives; then the run's remaining scores (linear probe, kNN on z; RunStore.complete_scores);
  then its exact kNN table (the neighbours, pairs and density read it; the map's UMAP graph does
  not wait for it, see lab.maps). numba's compile cost is paid by a warm-up job queued
  when the app starts, never on a user's click.
- While a map is drawn and clicked, background jobs (not training) pause for HOLD_S seconds
  (`_Worker.hold`), so that the clicks have the cores.
Protocol: JSON lines; requests on the worker's stdin, events on its stdout. Plain Python.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.baselines import pixel_baseline
from lab.data import DatasetUnavailable
from lab.runs import Run, RunStore, RunStoreError, run_id
from lab.train import Progress, TrainConfig, TrainingCancelled, TrainingDiverged, warm_up_training

ACTIVE = ("queued", "running")
HOLD_S = 2.5  # a background job waits this long after the map is shown or clicked [L]
KNOWN_ERRORS = (ValueError, DatasetUnavailable, TrainingDiverged, RunStoreError, OSError)
REPO = Path(__file__).resolve().parent.parent


def default_config(dataset: str = "fashion-mnist") -> TrainConfig:
    """The app's one-click default: the lab's default SimCLR run; on the small `digits` set more
    epochs, so that it trains for a few seconds instead of a few steps [L]."""
    if dataset == "digits":
        return TrainConfig(dataset="digits", batch_size=256, epochs=5)
    return TrainConfig(dataset=dataset)


@dataclass
class Job:
    """One unit of background work, kept up to date by the app's worker thread; pages read it."""

    key: str
    kind: str  # "train", "map", "scores", "table", "pairs" or "warm-up"
    title: str
    root: str = ""
    config: TrainConfig | None = None
    run: Run | None = None  # input of map/pairs jobs, result of a training job
    space: str = "backbone"
    state: str = "queued"  # queued, running, done, failed, cancelled
    message: str = "Waiting for the worker..."
    error: str | None = None
    progress: Progress | None = None  # a training job's
    fraction: float | None = None  # share done of another job that reports it (the map's layout)
    losses: list[float] = field(default_factory=list)
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
                "config": dataclasses.asdict(self.config) if self.config else None,
                "run_id": self.run.id if self.run else None}  # fmt: skip


class _Worker:
    """The one worker process of this app process, the queue in front of it, and the two threads
    that feed it jobs and read its events. Shared by every runs folder (one job at a time)."""

    def __init__(self):
        self.queue: collections.deque[Job] = collections.deque()
        self.cv = threading.Condition()
        self.current: Job | None = None
        self.proc: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None
        self.held_pid: int | None = None  # the worker process while a hold has it stopped
        self.held_until = 0.0  # time.monotonic() at which it resumes

    def submit(self, job: Job, front: bool = False) -> None:
        with self.cv:
            self.queue.appendleft(job) if front else self.queue.append(job)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._feed, name="lab-jobs", daemon=True)
                self.thread.start()
            self.cv.notify_all()

    def _start_process(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-m", "lab.jobs"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1, env=env, cwd=os.getcwd())  # fmt: skip
        threading.Thread(target=self._read, args=(self.proc,), name="lab-jobs-events", daemon=True).start()

    def _send(self, msg: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
        except (OSError, AttributeError, ValueError):
            pass  # the reader notices the dead process and fails the job

    def _feed(self) -> None:
        while True:
            with self.cv:
                while not self.queue:
                    self.cv.wait()
                job = self.queue.popleft()
            if job.state != "queued":  # cancelled while waiting
                continue
            if not threading.main_thread().is_alive():  # the app is exiting: start nothing new
                return
            if self.proc is None or self.proc.poll() is not None:
                try:
                    self._start_process()
                except OSError as exc:  # the job would otherwise show "queued" forever
                    job.state, job.finished_at = "failed", time.time()
                    job.error = (f"The background worker could not be started ({exc}). Check that "
                                 f"{sys.executable} runs, then start the job again.")  # fmt: skip
                    job._finished.set()
                    continue
            if job.kind != "train":  # a hold also delays the start of background jobs
                with self.cv:
                    while job.state == "queued" and (left := self.held_until - time.monotonic()) > 0:
                        job.message = f"Waiting while you explore the map: it starts {HOLD_S:g} s after your last click."
                        self.cv.wait(left)
                if job.state != "queued":
                    continue
            job.state, job.started_at, job.message = "running", time.time(), "Starting..."
            job._cancel_hook = lambda key=job.key: (self.release(), self._send({"op": "cancel", "key": key}))
            self.current = job
            self._send(job.request())
            job._finished.wait()
            self.current = None

    def hold(self, seconds: float) -> bool:
        """Stop the worker process (SIGSTOP) for `seconds` while it runs a background job, so that
        a person clicking on a map has both cores; a hold during a hold extends it. Training is
        never held: its user watches its progress. With no background job running, the next one
        waits for the hold to end before it starts (`_feed`). True when a running job was stopped.

        Why stop it: on 2 cores, a first map click right after the map appeared took 0.36-0.60 s
        while the worker ranked pairs and 0.25-0.26 s with it idle (chromium's software WebGL, the
        server and the worker compete for the cores); lowering its priority (nice 10, SCHED_IDLE)
        and giving it one thread did not close that gap (see the README)."""
        with self.cv:
            self.held_until = max(self.held_until, time.monotonic() + seconds)  # _feed starts nothing before
            job, proc = self.current, self.proc
            if job is None or job.kind == "train" or proc is None or proc.poll() is not None:
                return False
            if self.held_pid is None:
                try:
                    os.kill(proc.pid, signal.SIGSTOP)
                except (OSError, AttributeError):  # gone, or no signals on this platform
                    return False
                self.held_pid = proc.pid
                threading.Thread(target=self._release_when_due, name="lab-jobs-hold", daemon=True).start()
            return True

    def release(self) -> None:
        """End a hold now (a cancel, the app exiting)."""
        with self.cv:
            self._resume()

    def _resume(self) -> None:  # with self.cv held
        if self.held_pid is not None:
            with contextlib.suppress(OSError, AttributeError):
                os.kill(self.held_pid, signal.SIGCONT)
        self.held_pid, self.held_until = None, 0.0
        self.cv.notify_all()

    def _release_when_due(self) -> None:
        with self.cv:
            while self.held_pid is not None and (left := self.held_until - time.monotonic()) > 0:
                self.cv.wait(left)
            self._resume()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            job = self.current
            if job is not None and event.get("key") == job.key:
                # If this thread died on a fault here, the job and every later one would wait forever.
                try:
                    _apply(job, event)
                except Exception as exc:
                    traceback.print_exc()
                    job.state, job.finished_at = "failed", time.time()
                    job.error = (f"The app could not take in the worker's '{event.get('event')}' message "
                                 f"({type(exc).__name__}: {exc}); see the app's log. Start the job again.")  # fmt: skip
                    job._finished.set()
        proc.wait()
        job = self.current
        if job is not None and not job._finished.is_set():  # the worker died mid-job
            job.state, job.finished_at = "failed", time.time()
            job.error = (f"The background worker stopped unexpectedly (exit code {proc.returncode}); "
                         "see the app's log. Start the job again.")  # fmt: skip
            job._finished.set()


def _apply(job: Job, event: dict) -> None:
    """Update a job from one worker event."""
    kind = event["event"]
    if kind == "message":
        job.message = event["text"]
    elif kind == "fraction":
        job.fraction, job.message = event["fraction"], event["text"]
    elif kind == "progress":
        job.progress = Progress(**event["progress"])
        job.losses.extend(event.get("losses", [job.progress.loss]))
        job.message = f"Training: step {job.progress.step} of {job.progress.total_steps}"
    elif kind in ("done", "failed", "cancelled"):
        if kind == "done" and event.get("run_id"):
            try:  # JSON only: numpy parses an .npy header with ast, and CPython 3.11's parser is not
                # thread-safe beside Streamlit's script parsing in another thread ("AST constructor
                # recursion depth mismatch", seen in the AppTests); the worker has just checked the run.
                run = RunStore(job.root).load(event["run_id"], check_arrays=False)
                job.run, job.was_stored = run, event["was_stored"]
            except ValueError as exc:
                kind, event = "failed", {"error": f"The run was stored but cannot be read back: {exc}"}
        job.message = event.get("text", job.message)
        job.error = event.get("error")
        if kind == "done" and job.kind == "train":
            get_manager(job.root)._after_training(job, event.get("needs", []))  # before the next job starts
        job.state, job.finished_at = kind, time.time()
        job._finished.set()


_WORKER = _Worker()
atexit.register(_WORKER.release)  # never leave the worker stopped behind


class JobManager:
    """The jobs of one runs folder; they run in the shared worker process, one at a time."""

    def __init__(self, store: RunStore):
        self.store = store
        self.root = str(store.root)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit_training(self, cfg: TrainConfig) -> Job:
        """Queue training of `cfg` (or return the same config's queued/running job)."""
        return self._enqueue(Job(run_id(cfg), "train", f"{cfg.method} on {cfg.dataset}", config=cfg))

    def request_map(self, run: Run, space: str = "backbone", front: bool = False) -> Job:
        """Queue the kNN table and UMAP map of a run's space (or return the job already queued)."""
        return self._enqueue(Job(f"{run.id}/map/{space}", "map", f"map of {run.config.method} ({space})",
                                 run=run, space=space), front)  # fmt: skip

    def request_scores(self, run: Run, front: bool = False) -> Job:
        """Queue the scores a run stored with deferred scoring lacks (or return the job already queued)."""
        return self._enqueue(Job(f"{run.id}/scores", "scores", f"linear probe of {run.config.method}", run=run),
                             front)  # fmt: skip

    def request_table(self, run: Run, space: str = "backbone", front: bool = False) -> Job:
        """Queue the exact kNN table of a run's space (or return the job already queued)."""
        return self._enqueue(Job(f"{run.id}/table/{space}", "table", f"nearest neighbours of {run.config.method}",
                                 run=run, space=space), front)  # fmt: skip

    def request_pairs(self, run: Run, space: str = "backbone") -> Job:
        """Queue the cross-class nearest pairs of a run's space (or return the job already queued)."""
        return self._enqueue(Job(f"{run.id}/pairs/{space}", "pairs", f"cross-class pairs of {run.config.method}",
                                 run=run, space=space))  # fmt: skip

    def start_warm_up(self) -> Job:
        """Queue UMAP's one-time numba compilation in the worker, first in line (once per worker);
        returns that job."""
        with _WORKER.cv:
            if getattr(_WORKER, "warm_job", None) is None:
                _WORKER.warm_job = Job("warm-up", "warm-up", "UMAP warm-up", root=self.root)
                _WORKER.submit(_WORKER.warm_job, front=True)
            return _WORKER.warm_job

    def _enqueue(self, job: Job, front: bool = False) -> Job:
        job.root = self.root
        with self._lock:
            existing = self._jobs.get(job.key)
            if existing is not None and existing.active:
                return existing
            self._jobs[job.key] = job
        _WORKER.submit(job, front)
        return job

    def _after_training(self, job: Job, needs: list[str]) -> None:
        """Queue what a just-trained run still lacks, as its worker found (`needs`: "map",
        "scores", "table"), in front of other jobs: the map first, then the scores, then the table."""
        if job.run is None:
            return
        # each goes in front of the one before
        if "table" in needs:
            self.request_table(job.run, "backbone", front=True)
        if "scores" in needs:
            self.request_scores(job.run, front=True)
        if "map" in needs:
            self.request_map(job.run, "backbone", front=True)

    def hold_background(self, seconds: float = HOLD_S) -> bool:
        """Pause the running background job (not training) for `seconds` while a user clicks on a
        map (`_Worker.hold`); True when it is paused."""
        return _WORKER.hold(seconds)

    def held(self) -> bool:
        """True while a hold keeps background jobs from running or starting."""
        return _WORKER.held_until > time.monotonic()

    def job(self, key: str) -> Job | None:
        return self._jobs.get(key)

    def running(self) -> Job | None:
        current = _WORKER.current
        return current if current is not None and current.active else None

    def busy(self) -> bool:
        """True while any job of this runs folder is queued or running."""
        return any(j.active for j in list(self._jobs.values()))

    def jobs_ahead(self, job: Job) -> list[Job]:
        """The jobs that run or wait before this one, the running one first."""
        with _WORKER.cv:
            queued = [j for j in _WORKER.queue if j.state == "queued"]
        ahead = queued[: queued.index(job)] if job in queued else []
        running = self.running()
        return ([running] if running not in (None, job) else []) + ahead


_MANAGERS_BY_ROOT: dict[str, JobManager] = {}
_MANAGERS_LOCK = threading.Lock()


def get_manager(root: str | Path | None = None) -> JobManager:
    """The manager of a runs folder (one per folder and process, shared by all sessions)."""
    store = RunStore(root)
    with _MANAGERS_LOCK:
        key = str(store.root)
        if key not in _MANAGERS_BY_ROOT:
            _MANAGERS_BY_ROOT[key] = JobManager(store)
        return _MANAGERS_BY_ROOT[key]


# ---------------------------------------------------------------- the worker process
PROGRESS_EVERY_S = 0.5
_STARTED = time.monotonic()
WORKER_NICENESS = 10


def _batched_progress(emit) -> Callable[[Progress], None]:
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


def run_request(req: dict, emit, should_stop) -> None:
    """Do one job in the worker process; `emit(event=..., ...)` reports; raises on failure."""
    from lab.maps import run_map, stored_map, warm_up_umap
    from lab.neighbours import class_pairs, neighbour_table, stored_table

    store = RunStore(req["root"])
    if req["kind"] == "warm-up":
        emit(
            event="message",
            text="Compiling UMAP's kernels (numba; once per app start, mostly from its disk cache)...",
        )
        seconds = warm_up_umap()
        emit(event="message", text="Loading torch's optimiser code (once per app start)...")
        seconds += warm_up_training()
        # The default dataset's raw-pixel baseline, shown beside every run, is computed once per
        # runs folder; doing it now keeps it off the first training's wait. (The app tests turn it
        # off with LAB_WARM_UP_BASELINE=0: they train on digits.)
        cfg = default_config()
        if os.environ.get("LAB_WARM_UP_BASELINE", "1") != "0":
            with contextlib.suppress(DatasetUnavailable):  # no Fashion-MNIST: nothing to prepare
                emit(event="message", text=f"Scoring the raw-pixel baseline of {cfg.dataset} (once)...")
                pixel_baseline(cfg.dataset, cfg.subset, cfg.seed, root=store.root)
        return emit(event="done", text=f"UMAP and torch are warm ({seconds:.0f} s).")
    if req["kind"] == "train":
        emit(event="message", text="Loading the dataset...")
        run, was_stored = store.get_or_train(
            TrainConfig.from_dict(req["config"]),
            progress=_batched_progress(emit),
            should_stop=should_stop,
            status=lambda text: emit(event="message", text=text),
            defer_scores=True,
        )
        # What the run still lacks is read here, in the worker: the app's event thread reads no
        # .npy file (see _apply).
        needs = [kind for kind, missing in (("map", stored_map(run, "backbone") is None),
                                            ("scores", bool(run.pending)),
                                            ("table", stored_table(run, "backbone") is None)) if missing]  # fmt: skip
        return emit(event="done", run_id=run.id, was_stored=was_stored, needs=needs,
                    text="Stored." if was_stored else "Trained and stored.")  # fmt: skip
    run = store.load(req["run_id"])
    n = len(run.labels)
    if req["kind"] == "map":
        what = f"Laying out {n:,} points with UMAP"
        emit(event="message", text=f"{what}...")

        def layout_progress(fraction: float, seconds_left: float) -> None:
            left = f" · about {seconds_left:.0f} s left" if fraction > 0 else ""
            emit(event="fraction", fraction=fraction, text=f"{what}: {fraction:.0%} done{left}")

        run_map(run, req["space"], progress=layout_progress)
        return emit(event="done", text="Map ready.")
    if req["kind"] == "scores":
        emit(event="message", text="Scoring the run: kNN accuracy on h and z, then the linear probe...")
        store.complete_scores(run.id)
        return emit(event="done", text="Scores ready.")
    if req["kind"] == "table":
        emit(
            event="message",
            text=f"Finding the nearest neighbours of all {n:,} images (faiss, exact cosine)...",
        )
        neighbour_table(run, req["space"])
        return emit(event="done", text="Neighbours ready.")
    if req["kind"] == "pairs":
        emit(event="message", text="Ranking the most similar pairs of images from different classes...")
        class_pairs(run, req["space"])
        return emit(event="done", text="Pairs ready.")
    raise ValueError(f"Unknown job kind '{req['kind']}'.")


def serve() -> None:
    """The worker process: read requests from stdin, one job at a time, events to stdout.

    It runs at a lower CPU priority (nice WORKER_NICENESS) than the app: background work gives way
    whenever the server or a browser on the same machine needs a core. Measured on 2 cores with
    `python -m lab bench-browser`: a click on the map while the worker computed the kNN table took
    2.0 s, and 1.06 s once the worker was niced; training in the app then ran at 1,892 images/s,
    as fast as from the CLI.
    """
    import queue

    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)

    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the event stream
    write_lock = threading.Lock()
    requests: queue.Queue = queue.Queue()
    cancelled: set[str] = set()

    def emit(key: str, **event) -> None:
        with write_lock:
            try:
                out.write(json.dumps({"key": key, **event}) + "\n")
            except OSError:  # the app went away (broken pipe): nobody is left to report to
                os._exit(0)

    def read_stdin() -> None:
        for line in sys.stdin:
            msg = json.loads(line)
            if msg["op"] == "cancel":
                cancelled.add(msg["key"])
            else:
                requests.put(msg)
        cancelled.add("*")  # the app went away: stop what runs, then exit
        requests.put(None)

    threading.Thread(target=read_stdin, daemon=True).start()
    while (req := requests.get()) is not None:
        key = req["key"]
        cancelled.discard(key)
        handle(req, lambda key=key, **e: emit(key, **e), lambda key=key: key in cancelled or "*" in cancelled)


def handle(req: dict, send, should_stop) -> None:
    """run_request, with every failure turned into a readable 'failed' or 'cancelled' event.
    The app's log gets a line per job and message with the wall-clock time (to line up with a
    browser's timings) and the time since the worker started."""

    def log(what: str) -> None:
        now = time.time()
        clock = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 10) % 10}"
        print(f"[lab worker {clock} {time.monotonic() - _STARTED:7.1f} s] {req['kind']} {req['key']}: {what}",
              file=sys.stderr, flush=True)  # fmt: skip

    def emit(**event) -> None:
        if event["event"] not in ("progress", "fraction"):
            log(f"{event['event']} {event.get('text') or event.get('error') or ''}")
        send(**event)

    log("started")
    try:
        run_request(req, emit, should_stop)
    except TrainingCancelled as exc:
        emit(event="cancelled", text=str(exc))
    except KNOWN_ERRORS as exc:
        emit(event="failed", error=str(exc))
    except Exception as exc:  # keep serving; the page shows the message, the log the traceback
        traceback.print_exc()
        emit(event="failed", error=f"Unexpected error ({type(exc).__name__}): {exc}")


if __name__ == "__main__":
    os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))
    serve()
