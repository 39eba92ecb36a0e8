"""Stored runs that differ from a run along one axis only (a sweep's runs): what the Map and Probes pages'
axis sliders swap between."""

from __future__ import annotations

from lab.store.run import Run

SLIDER_AXES = {"embedding_size": "Embedding size p", "aug_strength": "Augmentation strength s",
               "q": "q (view 2 gets another digit)"}  # fmt: skip
IGNORED = ("snapshots",)  # recorded extras, not what the model is


def _identity(run: Run) -> dict:
    key = run.config.key()
    for name in IGNORED:
        key.pop(name, None)
    return key


def sibling_axes(run: Run, runs: list[Run]) -> dict[str, list[tuple[object, str]]]:
    """For each axis of SLIDER_AXES along which stored runs differ from `run` and in nothing else: the
    (value, run id) pairs sorted by value, `run`'s own among them. The first run listed of each value
    wins (list runs newest first). Axes with a single value are left out."""
    me = _identity(run)
    out = {}
    for axis in SLIDER_AXES:
        if axis not in me:
            continue
        rest = {k: v for k, v in me.items() if k != axis}
        found = {me[axis]: run.id}
        for other in runs:
            key = _identity(other)
            if axis in key and {k: v for k, v in key.items() if k != axis} == rest:
                found.setdefault(key[axis], other.id)
        if len(found) > 1:
            out[axis] = sorted(found.items())
    return out
