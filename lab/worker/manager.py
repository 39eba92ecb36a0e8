"""Background work for the app: training, then the run's kNN table and map, one job at a time.

The app must never freeze while a model trains, so every heavy step runs in ONE long-lived worker process
(`python -m lab.worker`, lab.worker.process), and the pages only read `Job` objects (progress, ETA, loss
history, errors) that a thread of the app keeps up to date from the worker's messages. Why a process and
not a thread: measured here, training in a thread of the Streamlit server ran 7x slower than the CLI (the
server's threads and the training loop share one interpreter lock, and torch's two threads stall when
anything else holds a core); and numba compiles (UMAP) parse Python source in a way that is not thread-
safe on Python 3.11.7 next to Streamlit's own script parsing ("AST constructor recursion depth mismatch").

- Jobs are keyed: a training job by its run id, a map job by run id and space. Asking for a key
  already queued or running returns that job, so two tabs or sessions asking for the same config
  share one training. (Across app processes, RunStore's file lock does the same.)
- Different jobs queue and run one after another: on 2 cores, two thread-hungry jobs side by
  side are slower than the same two in turn.
- A training job stores its run as soon as the headline score (kNN accuracy on h) is known.
  Then the run's backbone map is queued first, so the map is usually ready when the user
  arrives; then the run's remaining scores (linear probe, kNN on z; RunStore.complete_scores);
  then its exact kNN table (the neighbours, pairs and density read it; the map's UMAP graph does
  not wait for it, see lab.store.maps). numba's compile cost is paid by a warm-up job queued
  when the app starts, never on a user's click.
- While a map is drawn and clicked, background jobs (not training) pause for HOLD_S seconds
  (`_Worker.hold`), so that the clicks have the cores.
- What the worker can do is a registry of job kinds (lab.worker.kinds); papers add theirs.
Protocol: JSON lines; requests on the worker's stdin, events on its stdout. Plain Python.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np

from lab.core.config import TrainConfig
from lab.core.train import Progress
from lab.store.runs import Run, RunStore, run_id
from lab.worker.job import ACTIVE, Job, LiveFrame

HOLD_S = 2.5  # a background job waits this long after the map is shown or clicked [L]
REPO = Path(__file__).resolve().parents[2]


class _Worker:
    """The one worker process of this app process, the queue in front of it, and the two threads
    that feed it jobs and read its events. Shared by every runs folder (one job at a time)."""

    def __init__(self):
        self.queue: collections.deque[Job] = collections.deque()
        self.idle: collections.deque[Job] = collections.deque()  # runs only when `queue` is empty
        self.cv = threading.Condition()
        self.current: Job | None = None
        self.proc: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None
        self.held_pid: int | None = None  # the worker process while a hold has it stopped
        self.held_until = 0.0  # time.monotonic() at which it resumes

    def submit(self, job: Job, front: bool = False, idle: bool = False) -> None:
        """Queue a job: at the back, in front (`front`), or in the idle queue (`idle`: it starts only
        when nothing else waits, e.g. maps of stored runs laid out ahead of a user's visit)."""
        with self.cv:
            if idle:
                self.idle.append(job)
            else:
                self.queue.appendleft(job) if front else self.queue.append(job)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._feed, name="lab-jobs", daemon=True)
                self.thread.start()
            self.cv.notify_all()

    def _start_process(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-m", "lab.worker"], stdin=subprocess.PIPE,
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
                while not self.queue and not self.idle:
                    self.cv.wait()
                job = (self.queue or self.idle).popleft()
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
            job._finished.clear()  # a sweep comes back here once per run
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
        and giving it one thread did not close that gap (docs/performance.md, "Why the defaults are what they are")."""
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
    elif kind == "frame":  # a snapshot's provisional layout while training runs (kinds.live_frames)
        xy, labels = np.asarray(event["xy"], np.float32), np.asarray(event["labels"])
        job.frames.append(LiveFrame(event["step"], xy, labels))
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
        if kind == "done" and job.kind == "sweep":
            mgr = get_manager(job.root)
            if event.get("trained"):  # its map, when nothing else waits
                mgr.request_map_of(event["trained"], idle=True)
            if event.get("left"):  # back in line, behind what was asked for meanwhile
                job.state, job.fraction = "queued", None
                job._finished.set()
                _WORKER.submit(job)
                return
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

    def request_map(self, run: Run, space: str = "backbone", front: bool = False, idle: bool = False) -> Job:
        """Queue the UMAP map of a run's space (or return the job already queued); `idle`: only when
        nothing else waits."""
        return self._enqueue(Job(f"{run.id}/map/{space}", "map", f"map of {run.config.method} ({space})",
                                 run=run, space=space), front, idle)  # fmt: skip

    def lay_out_maps(self, runs, limit: int = 10) -> list[Job]:
        """Queue, in the idle queue, the backbone maps the newest `limit` runs lack (once per process):
        the first visit to a stored run's map is then instant, and nobody waits behind them."""
        with _WORKER.cv:
            if getattr(_WORKER, "maps_laid_out", False):
                return []
            _WORKER.maps_laid_out = True
        from lab.store.maps import stored_map

        return [self.request_map(r, idle=True) for r in runs[:limit] if stored_map(r, "backbone") is None]

    def request_map_of(self, rid: str, idle: bool = False) -> Job | None:
        """request_map for a run given by id (None when it cannot be read)."""
        try:
            return self.request_map(self.store.load(rid, check_arrays=False), idle=idle)
        except (ValueError, OSError):
            return None

    def submit_sweep(self, sweep) -> Job:
        """Queue a sweep (lab.sweep.grid.Sweep): one run per turn, queued again until none is left, so that
        maps and probes asked for meanwhile go between two runs. Its budget is the caller's check."""
        from lab.sweep.grid import save_sweep

        save_sweep(sweep, self.store, "running")
        title = f"sweep of {len(sweep.configs())} runs"
        return self._enqueue(Job(f"sweep/{sweep.id}", "sweep", title, params={"sweep": sweep.to_dict()}))

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

    def request(self, kind: str, run, title: str, space: str = "backbone", params: dict | None = None,
                front: bool = False) -> Job:  # fmt: skip
        """Queue a job of any registered kind (lab.worker.kinds) on a run (or a pixel baseline, which
        travels as its run and params["rep"] = "pixels"), or return the same job already queued."""
        params = dict(params or {})
        return self._enqueue(Job(job_key(kind, run.id, space, params), kind, title, run=run, space=space,
                                 params=params), front)  # fmt: skip

    def start_warm_up(self) -> Job:
        """Queue UMAP's one-time numba compilation in the worker, first in line (once per worker);
        returns that job."""
        with _WORKER.cv:
            if getattr(_WORKER, "warm_job", None) is None:
                _WORKER.warm_job = Job("warm-up", "warm-up", "UMAP warm-up", root=self.root)
                _WORKER.submit(_WORKER.warm_job, front=True)
            return _WORKER.warm_job

    def _enqueue(self, job: Job, front: bool = False, idle: bool = False) -> Job:
        job.root = self.root
        with self._lock:
            existing = self._jobs.get(job.key)
            if existing is not None and existing.active:
                if not idle:  # asked for now: an idle job moves up to the main queue
                    with _WORKER.cv:
                        if existing in _WORKER.idle:
                            _WORKER.idle.remove(existing)
                            _WORKER.queue.appendleft(existing) if front else _WORKER.queue.append(existing)
                            _WORKER.cv.notify_all()
                return existing
            self._jobs[job.key] = job
        _WORKER.submit(job, front, idle)
        return job

    def _after_training(self, job: Job, needs: list[str]) -> None:
        """Queue what a just-trained run still lacks, as its worker found (`needs`: "map",
        "scores", "table", "timeline"), in front of other jobs: the map first, then the training timeline
        of a run recorded with snapshots (bench-timeline's 30-s target), then the scores the result card
        still lacks (kNN on z, the linear probe: its headline kNN is scored with the run), then the table."""
        if job.run is None:
            return
        # each goes in front of the one before
        if "table" in needs:
            self.request_table(job.run, "backbone", front=True)
        if "scores" in needs:
            self.request_scores(job.run, front=True)
        if "timeline" in needs:
            self.request("timeline", job.run, f"training timeline of {job.run.config.method}", front=True)
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
            queued = [j for j in (*_WORKER.queue, *_WORKER.idle) if j.state == "queued"]
        ahead = queued[: queued.index(job)] if job in queued else []
        running = self.running()
        return ([running] if running not in (None, job) else []) + ahead


def job_key(kind: str, rid: str, space: str = "backbone", params: dict | None = None) -> str:
    """The key of a job on a run: the same inputs give the same key, so asking twice shares one job."""
    extra = "".join(f"/{k}={v}" for k, v in sorted((params or {}).items()))
    return f"{rid}/{kind}/{space}{extra}"


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


__all__ = ["ACTIVE", "HOLD_S", "Job", "JobManager", "get_manager", "job_key"]
