"""Fixtures for the app tests: the app pointed at the shared runs folder of two tiny digits runs
(tests/conftest.py `runs_dir`), or at an empty one."""

from __future__ import annotations

import pytest
from app_helpers import REPO


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
