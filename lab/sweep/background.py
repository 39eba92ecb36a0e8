"""Sweeps in the app's background worker (lab.worker.manager.JobManager.submit_sweep queues them): stop
one, and resume, once per process, those an earlier app left running."""

from __future__ import annotations

import threading

from lab.sweep.grid import Sweep, save_sweep, stored_sweeps

_LOCK = threading.Lock()
_RESUMED: set = set()  # runs folders whose sweeps this process resumed


def cancel_sweep(mgr, job) -> None:
    """Stop a sweep (the run in training stops between two steps) and mark it cancelled, so that an app
    restart does not resume it; its stored runs stay."""
    job.cancel()
    save_sweep(Sweep(**job.params["sweep"]), mgr.store, "cancelled")


def resume_sweeps(mgr) -> list:
    """Queue again the sweeps mgr's runs folder has left running (an app stopped mid-sweep), once per
    process; what they stored is reused. Returns the jobs."""
    with _LOCK:
        if mgr.root in _RESUMED:
            return []
        _RESUMED.add(mgr.root)
    return [mgr.submit_sweep(sw) for sw, doc in stored_sweeps(mgr.store) if doc.get("state") == "running"]
