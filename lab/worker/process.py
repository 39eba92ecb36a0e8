"""The worker process (`python -m lab.worker`): reads job requests from stdin, runs one at a time
through the registry of job kinds (lab.worker.kinds), and writes events to stdout as JSON lines.

Why a separate process at all: see lab.worker.manager.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import traceback

from lab.core.data import DatasetUnavailable
from lab.core.train import TrainingCancelled, TrainingDiverged
from lab.store.runs import RunStore, RunStoreError
from lab.worker.job import JobRequest
from lab.worker.kinds import get_kind

KNOWN_ERRORS = (ValueError, DatasetUnavailable, TrainingDiverged, RunStoreError, OSError)
WORKER_NICENESS = 10
_STARTED = time.monotonic()


def run_request(req: dict, emit, should_stop) -> None:
    """Do one job in the worker process; `emit(event=..., ...)` reports; raises on failure."""
    kind = get_kind(req["kind"])
    kind.work(JobRequest(req["kind"], req["key"], RunStore(req["root"]), emit, should_stop,
                         space=req.get("space") or "backbone", config=req.get("config"),
                         run_id=req.get("run_id"), params=req.get("params") or {}))  # fmt: skip


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
        if event["event"] not in ("progress", "fraction", "frame"):
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
