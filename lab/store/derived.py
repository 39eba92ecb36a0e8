"""Per-run derived caches: results computed from a run's stored features and kept beside it,

  <run>/analysis/v<version>/<name>     (the name is the key: every parameter that changes it)

written atomically (lab.store.atomic). A file that fails to load reads as missing, so the caller
recomputes it. A paper bumps its `version` when a stored number changes meaning.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def derived_path(run, name: str, version: int) -> Path:
    return Path(run.path) / "analysis" / f"v{version}" / name


def load_npz(path: Path) -> dict | None:
    """The arrays of an .npz cache file, or None when it is missing or damaged."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError):
        return None


def load_json(path: Path):
    """The value of a JSON cache file, or None when it is missing or damaged."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
