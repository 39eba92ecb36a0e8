"""`python -m lab.worker`: the app's worker process (lab.worker.process.serve)."""

import os
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[2] / ".cache" / "numba"))
    from lab.worker.process import serve

    serve()
