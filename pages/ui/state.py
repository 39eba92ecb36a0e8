"""Session state and cached loaders: the runs folder, its runs, the selected run and clicked point.

Loaders are cached by run id (and the file stamp that changes when a run's scores arrive), so a
rerun reads nothing twice.
"""

from __future__ import annotations

import os

import numpy as np
import streamlit as st

from lab.core import data as lab_data
from lab.core.config import default_config
from lab.store.maps import stored_map
from lab.store.runs import Run, RunStore
from lab.worker.manager import get_manager


def require_app() -> None:
    """Run this page through app.py. Until a session of this server has run app.py (which calls
    st.navigation), Streamlit 1.67 treats the pages/ folder as a v1 multipage app and runs a page
    opened by its own URL (a refresh on /map, a tab reconnecting after a restart) without app.py:
    no sidebar, no runs. Each page calls this first: it ends that mode and reruns, so that app.py
    runs and shows the page the URL names."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    st.session_state["_explores_map"] = False  # set by hold_background: this page has a map


def runs_root() -> str:
    return str(RunStore().root)  # $LAB_RUNS_DIR or ./runs, read at call time


def manager():
    return get_manager(runs_root())


@st.cache_resource(show_spinner="Looking for datasets...")
def datasets() -> dict[str, str]:
    """Dataset name -> where it comes from, or 'unavailable: ...'."""
    return lab_data.available_datasets()


def available_datasets() -> list[str]:
    return [name for name, src in datasets().items() if not src.startswith("unavailable")]


def default_dataset() -> str:
    return "fashion-mnist" if "fashion-mnist" in available_datasets() else "digits"


def default_train_config(dataset: str | None = None):
    return default_config(dataset or default_dataset())


def _metrics_stamp(root: str, rid: str) -> int:
    """Changes when a run's metrics.json is rewritten (its deferred scores arrive)."""
    try:
        return os.stat(os.path.join(root, rid, "metrics.json")).st_mtime_ns
    except OSError:
        return 0


def scan_runs():
    """The runs folder sorted into complete runs, damaged ones and older-version ones (RunStore.scan),
    read again when a folder or a run's metrics change."""
    root = runs_root()
    names = sorted(os.listdir(root)) if os.path.isdir(root) else []
    return _scan_runs(root, tuple((n, _metrics_stamp(root, n)) for n in names))


def list_runs() -> list[Run]:
    return scan_runs().runs


@st.cache_resource(show_spinner=False, max_entries=4)
def _scan_runs(root: str, stamp: tuple):
    return RunStore(root).scan()


def load_run(root: str, rid: str) -> Run:
    return _load_run(root, rid, _metrics_stamp(root, rid))


@st.cache_resource(show_spinner=False, max_entries=16)
def _load_run(root: str, rid: str, stamp: int) -> Run:
    return RunStore(root).load(rid)


@st.cache_resource(show_spinner="Loading the images...", max_entries=4)
def run_images(root: str, rid: str) -> np.ndarray:
    """uint8 [N, C, H, W], the run's rows."""
    return load_run(root, rid).images().numpy()


@st.cache_resource(show_spinner=False)
def class_names(dataset: str) -> tuple[str, ...]:
    return lab_data.load_dataset(dataset).classes


@st.cache_resource(show_spinner=False, max_entries=8)
def run_map(root: str, rid: str, space: str) -> np.ndarray:
    """The stored map [N, 2]; call only when lab.store.maps.stored_map says it exists."""
    xy = stored_map(load_run(root, rid), space)
    if xy is None:
        raise FileNotFoundError(f"The {space} map of run {rid} has not been computed yet.")
    return xy


# ---------------------------------------------------------------- selected run and point
def current_run() -> Run | None:
    rid = st.session_state.get("run_picker")
    if rid is None:
        return None
    try:
        return load_run(runs_root(), rid)
    except ValueError as exc:
        st.error(f"Run {rid} cannot be loaded: {exc}")
        return None


def select_run(rid: str) -> None:
    """Make `rid` the sidebar's run on the next rerun (a widget's value cannot change mid-run)."""
    st.session_state["_pending_run"] = rid


def data_key(run: Run) -> str:
    c = run.config
    return f"{c.dataset}/{c.subset}/{c.seed if c.subset else 0}"


def selected_row(run: Run) -> int | None:
    point = st.session_state.get("point")
    if point and point.get("data") == data_key(run) and 0 <= point["row"] < len(run.labels):
        return int(point["row"])
    return None


def set_point(run: Run, row: int) -> None:
    st.session_state["point"] = {"data": data_key(run), "row": int(row)}


def row_from_selection(event) -> int | None:
    """The clicked row from st.plotly_chart's selection (the row travels in customdata)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    if not points:
        return None
    cd = points[0].get("customdata")
    if isinstance(cd, dict):
        cd = cd.get("0", next(iter(cd.values()), None))
    if isinstance(cd, list | tuple):
        cd = cd[0] if cd else None
    return int(cd) if cd is not None else None


def take_click(run: Run, key: str, event) -> None:
    """Apply a map click once: a selection only counts when it differs from the last one seen,
    so that other ways of choosing a point are not overwritten on the next rerun."""
    row = row_from_selection(event)
    seen = f"_seen_{key}"
    if row is not None and st.session_state.get(seen) != row:
        set_point(run, row)
    st.session_state[seen] = row


def take_shared_click(run: Run, rows: np.ndarray, key: str, event) -> None:
    """take_click for a map of shared images, whose points carry their position in `rows` (the
    first run's rows of the images two runs both embedded): the point becomes that run's row."""
    pos = row_from_selection(event)
    seen = f"_seen_{key}"
    if pos is not None and st.session_state.get(seen) != pos and 0 <= pos < len(rows):
        set_point(run, int(rows[pos]))
    st.session_state[seen] = pos


def hold_background() -> None:
    """Call where a map is drawn or clicked: the running background job (pairs, scores, a map of
    another run; never training) pauses for `lab.worker.manager.HOLD_S`, so that the clicks that
    follow have both cores (see `lab.worker.manager._Worker.hold`)."""
    st.session_state["_explores_map"] = True
    manager().hold_background()
