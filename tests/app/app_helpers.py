"""Helpers shared by the AppTest files: the tiny runs' config, opening one page inside app.py's
shell (page_harness.py), reading what a page says, and waiting for background work."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest
from tiny import TINY_APP as TINY  # the two runs of tests/conftest.py's runs_dir

REPO = Path(__file__).resolve().parents[2]
HARNESS = str(REPO / "tests" / "app" / "page_harness.py")
TEXT_KINDS = ("markdown", "caption", "info", "success", "error", "warning", "title", "subheader")


def page(name: str, timeout: float = 240, **state) -> AppTest:
    """Run app.py's shell (sidebar included) around one page, with session state preset."""
    at = AppTest.from_file(HARNESS, default_timeout=timeout)
    at.query_params["page"] = name
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def run_id_of(method: str) -> str:
    from lab.core.config import TrainConfig
    from lab.store.runs import run_id

    return run_id(TrainConfig(method=method, **TINY))


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in TEXT_KINDS for e in getattr(at, kind))


def wait_for(at: AppTest, done, timeout: float = 180.0) -> AppTest:
    """Rerun the page (as its polling fragment would) until done(at) or the timeout."""
    end = time.time() + timeout
    while time.time() < end:
        assert not at.exception, at.exception
        if done(at):
            return at
        time.sleep(0.5)
        at.run()
    raise AssertionError(f"timed out; page said:\n{texts(at)}")
