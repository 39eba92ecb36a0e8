"""`streamlit run app.py` served over a runs folder, for the browser benchmarks and tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from lab.bench.browser import REPO, free_port, wait_healthy


@contextlib.contextmanager
def serve_app(runs: Path, log_path: Path, timeout: float = 120):
    """`streamlit run app.py` on a free localhost port over a runs folder, its output in log_path;
    yields its URL."""
    port = free_port()
    env = {**os.environ, "LAB_RUNS_DIR": str(runs), "NUMBA_CACHE_DIR": str(REPO / ".cache" / "numba")}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, timeout=timeout)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
