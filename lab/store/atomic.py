"""The one way the lab writes a file: into a temporary file beside the target, then renamed over
it (os.replace), so that a reader sees the old file or the new one, never half of one, and an
interrupted write leaves nothing behind. Files are world-readable (0644) like the rest of a run.

A whole folder (a run) is written the same way one level up: `folder_atomically` gives a temporary
folder and renames it into place when the block ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np


def write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call write(file) on a temporary binary file beside `path`, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the run's other files are world-readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_npy_atomically(path: Path, array: np.ndarray) -> None:
    """np.save without pickles, atomically."""
    write_atomically(path, lambda f: np.save(f, array, allow_pickle=False))


def save_npz_atomically(path: Path, **arrays) -> None:
    """np.savez without pickles, atomically."""
    write_atomically(path, lambda f: np.savez(f, **arrays))


def save_text_atomically(path: Path, text: str) -> None:
    write_atomically(path, lambda f: f.write(text.encode()))


def save_json_atomically(path: Path, value, indent: int | None = 2) -> None:
    save_text_atomically(path, json.dumps(value, indent=indent))


@contextlib.contextmanager
def folder_atomically(final: Path, make_room: Callable[[Path], object] | None = None) -> Iterator[Path]:
    """Yield a new temporary folder beside `final` to write into; when the block ends, rename it to
    `final` (after `make_room(final)` when `final` exists, e.g. moving a damaged folder aside). On any
    error the temporary folder is removed and `final` is left as it was."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        if final.exists() and make_room is not None:
            make_room(final)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
