"""Background jobs as the pages see them: ask for a stored result, and while it is computed in the
worker (lab.worker), show the job's progress and rerun the page when it is done.

The page thread never computes anything heavy: `ensure_*` return the stored result, or queue the job
that computes it and return None.
"""

from __future__ import annotations

import time

import streamlit as st

from lab.store.maps import stored_map
from lab.store.neighbours import stored_pairs, stored_table
from lab.worker.manager import HOLD_S, job_key
from pages.ui.state import manager


def ensure_map(run, space: str) -> bool:
    """True when the map is stored. Otherwise queue it and show its progress (polling alone)."""
    if stored_map(run, space) is not None:
        return True
    job_progress(manager().request_map(run, space).key)
    return False


def ensure_table(run, space: str) -> bool:
    """True when the run's exact kNN table is stored. Otherwise queue it and show its progress."""
    if stored_table(run, space) is not None:
        return True
    job_progress(manager().request_table(run, space).key)
    return False


def ensure_pairs(run, space: str):
    """The run's cross-class pairs when stored; otherwise queue them, show progress, return None."""
    pairs = stored_pairs(run, space)
    if pairs is None:
        job_progress(manager().request_pairs(run, space).key, poll=2.0)
    return pairs


def ensure_scores(run, show: bool = True) -> None:
    """A run stored before its scores (the app maps it first) gets them in the background; resumed
    when the app stopped meanwhile. Shows the job's progress when `show`."""
    if not run.pending:
        return
    job = manager().job(f"{run.id}/scores")
    if job is None or (show and job.state != "failed"):
        job = manager().request_scores(run)
    if show:
        job_progress(job.key, poll=2.0)


def ensure_result(stored, kind: str, run, title: str, space: str = "backbone", params: dict | None = None,
                  poll: float = 0.5):  # fmt: skip
    """`stored` (a result read from disk) when it is not None; otherwise queue the job of `kind` that
    computes it (lab.worker.kinds), show its progress, and return None."""
    if stored is not None:
        return stored
    job = manager().request(kind, run, title, space, params)
    job_progress(job.key, poll)
    return None


def ensure_results(todo: list[tuple], title: str) -> None:
    """Queue the jobs `todo` lists, (kind, run, what, params) each on the run's backbone, and show one
    progress bar over them; the page reruns when none is left. A job that failed is said, not queued again."""
    mgr, keys, failed = manager(), [], []
    for kind, run, what, params in todo:
        earlier = mgr.job(job_key(kind, run.id, "backbone", params))
        if earlier is not None and earlier.state == "failed":
            failed.append(f"{what}: {earlier.error}")
        else:
            keys.append(mgr.request(kind, run, what, "backbone", params).key)
    if failed:
        st.warning(f"Could not compute {len(failed)} of them: " + "; ".join(failed), icon=":material/error:")
    if keys:
        _jobs_progress(tuple(keys), title)


@st.fragment(run_every=2.0)
def _jobs_progress(keys: tuple[str, ...], title: str) -> None:
    jobs = [j for j in map(manager().job, keys) if j is not None]
    left = [j for j in jobs if j.active]
    if not left:
        st.rerun()
    now = next((j for j in left if j.state == "running"), None)
    ahead = [] if now is not None else manager().jobs_ahead(left[0])
    doing = f"now: {now.title}" if now is not None else f"queued behind: {', '.join(j.title for j in ahead)}"
    st.progress((len(keys) - len(left)) / len(keys), text=f"{title}: {len(keys) - len(left)} of {len(keys)} "
                f"computed in the background, stored with each run · {doing}")  # fmt: skip


def job_progress(key: str, poll: float = 0.5) -> None:
    """Status of a background job; reruns the page when it is done. `poll`: seconds between checks.
    Twice a second for what the user waits for (the map appears at most half a second after the
    worker stores it); every 2 s for what fills in while the user explores a map (pairs, scores):
    each check is a rerun that the browser renders, on the same cores as the map's clicks."""
    (_job_progress_fast if poll < 1 else _job_progress_slow)(key)


@st.fragment(run_every=0.5)
def _job_progress_fast(key: str) -> None:
    _job_status(key)


@st.fragment(run_every=2.0)
def _job_progress_slow(key: str) -> None:
    _job_status(key)


def _job_status(key: str) -> None:
    mgr = manager()
    job = mgr.job(key)
    if job is None:
        return
    if job.state == "failed":
        st.error(f"Could not compute this: {job.error}", icon=":material/error:")
        return
    if job.state in ("done", "cancelled"):
        st.rerun()
    ahead = mgr.jobs_ahead(job) if job.state == "queued" else []
    waiting = f" (queued behind: {', '.join(j.title for j in ahead)})" if ahead else ""
    # Not `with st.status(...)`: leaving that block marks the status complete (a tick), and the job runs on.
    if mgr.held() and st.session_state.get("_explores_map") and "explore the map" not in job.message:
        waiting += f" · background work is paused while you explore the map; it resumes {HOLD_S:g} s after your last click"
    box = st.status(f"{job.message}{waiting}", state="running")
    box.caption(f"Started {time.time() - job.submitted_at:.0f} s ago. The result is stored with the run, "
                "so this happens once.")  # fmt: skip
    if job.fraction is not None:  # jobs that report their share done (the map's layout, RLD draws, probes)
        st.progress(job.fraction)


def shown_error(what: str, fn):
    """fn() for a quick computation on stored results (milliseconds); a ValueError becomes a readable
    error box and None."""
    try:
        return fn()
    except ValueError as exc:
        st.error(f"Cannot compute {what}: {exc}", icon=":material/error:")
        return None
