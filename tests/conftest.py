"""Fixtures shared by the test folders: a tiny digits run (`tiny_run`, a few seconds of training)
and a runs folder with a tiny simclr and supervised run, maps and kNN tables included (`runs_dir`),
each made once per session. Tests that train, use a trained run or drive a browser are marked
`slow` (`make test-fast` leaves them out)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from tiny import TINY, TINY_APP

REPO = Path(__file__).resolve().parents[1]
TRAINING_FIXTURES = {"store", "tiny_run", "runs_dir", "app_env", "run"}
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))
os.environ.setdefault("LAB_WARM_UP_BASELINE", "0")  # the tests train on digits, not Fashion-MNIST


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    from lab.store.runs import RunStore

    return RunStore(tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="session")
def tiny_run(store):
    from lab.core.config import TrainConfig

    run, stored = store.get_or_train(TrainConfig(**TINY))
    assert not stored
    return run


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """A runs folder with a tiny simclr and a tiny supervised digits run, maps and kNN tables included.
    The maps come from the app's own background worker, which stays warm for the later tests."""
    from lab.core.config import TrainConfig
    from lab.store.runs import RunStore
    from lab.worker.manager import get_manager

    root = tmp_path_factory.mktemp("app-runs")
    store, manager = RunStore(root), get_manager(root)
    manager.start_warm_up()  # numba compiles in the worker while the runs train here
    runs = [
        store.get_or_train(TrainConfig(method=method, **TINY_APP))[0] for method in ("simclr", "supervised")
    ]
    jobs = [manager.request_map(run, "backbone") for run in runs]
    jobs += [manager.request_table(run, "backbone") for run in runs]
    deadline = time.time() + 240
    while any(job.active for job in jobs) and time.time() < deadline:
        time.sleep(0.2)
    failed = [job.error for job in jobs if job.state != "done"]
    assert not failed, f"maps or kNN tables of the test runs failed: {failed}"
    return root


@pytest.fixture()
def run(runs_dir):
    """The tiny simclr run of `runs_dir`, with its map and kNN table."""
    from lab.store.runs import RunStore

    return next(r for r in RunStore(runs_dir).list() if r.config.method == "simclr")


@pytest.fixture(autouse=True)
def _no_hold_left_behind():
    """A map page holds background jobs for a few seconds (lab.worker.manager.HOLD_S); end any hold
    after each test, so that the next test's jobs start at once."""
    yield
    from lab.worker.manager import _WORKER

    _WORKER.release()


def pytest_collection_modifyitems(items):
    """Tests that train (or use a trained run) or drive a browser are slow."""
    for item in items:
        if (
            TRAINING_FIXTURES & set(item.fixturenames)
            or item.get_closest_marker("browser")
            or item.get_closest_marker("trains")
        ):
            item.add_marker(pytest.mark.slow)
