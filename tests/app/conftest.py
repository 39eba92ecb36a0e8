"""Shared fixtures for the app tests: a temporary runs folder holding two tiny digits runs
(simclr and supervised, a few seconds each) with their maps, set as $LAB_RUNS_DIR."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from app_helpers import REPO, TINY


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """A runs folder with a tiny simclr and a tiny supervised digits run, maps and kNN tables included.
    The maps come from the app's own background worker, which stays warm for the later tests."""
    from lab.core.config import TrainConfig
    from lab.store.runs import RunStore
    from lab.worker.manager import get_manager

    root = tmp_path_factory.mktemp("runs")
    store, manager = RunStore(root), get_manager(root)
    manager.start_warm_up()  # numba compiles in the worker while the runs train here
    runs = [store.get_or_train(TrainConfig(method=method, **TINY))[0] for method in ("simclr", "supervised")]
    jobs = [manager.request_map(run, "backbone") for run in runs]
    jobs += [manager.request_table(run, "backbone") for run in runs]
    deadline = time.time() + 240
    while any(job.active for job in jobs) and time.time() < deadline:
        time.sleep(0.2)
    failed = [job.error for job in jobs if job.state != "done"]
    assert not failed, f"maps or kNN tables of the test runs failed: {failed}"
    return root


@pytest.fixture()
def app_env(runs_dir, monkeypatch):
    """Point the app at the shared runs folder, run from the repo root, with fresh Streamlit caches."""
    import streamlit as st

    monkeypatch.setenv("LAB_RUNS_DIR", str(runs_dir))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield runs_dir
    st.cache_resource.clear()


@pytest.fixture()
def empty_env(tmp_path, monkeypatch):
    """The app over an empty runs folder."""
    import streamlit as st

    monkeypatch.setenv("LAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    yield tmp_path / "runs"
    st.cache_resource.clear()


os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))
os.environ.setdefault("LAB_WARM_UP_BASELINE", "0")  # these tests train on digits, not Fashion-MNIST


@pytest.fixture(autouse=True)
def _no_hold_left_behind():
    """A map page holds background jobs for a few seconds (lab.worker.manager.HOLD_S); end any hold after
    each test, so that the next test's jobs start at once."""
    yield
    from lab.worker.manager import _WORKER

    _WORKER.release()
