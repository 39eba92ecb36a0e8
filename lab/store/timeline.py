"""The training timeline of a run: from its snapshots (lab.core.snapshots), a 2-D layout of the probe
set per snapshot, aligned frame to frame, and the lab's measures on each frame. Cached with the run:

  <run>/analysis/vtimeline-<V>/frames-n<n>-d<d>/<i>.npy     float32 [M, 2] the layout of snapshot i
  <run>/analysis/vtimeline-<V>/measures-tau<t>/<i>.json     the measures of snapshot i
  <run>/analysis/vtimeline-<V>/timeline-n<n>-d<d>-tau<t>.json  steps, measures, pixel reference; written
                                                            last, so its presence means the timeline is whole

Alignment: each frame's UMAP starts from the previous frame's layout (umap-learn's `init=` array), so
points move only as far as the features moved. umap-learn's AlignedUMAP was not used: on 8 frames x
5,000 points it took 139 s on 2 cores against 7 s for 8 plain fits (NOTES.md), far over the 30 s target.
Every file is written atomically (lab.store.atomic), one frame at a time, so an interrupted job resumes
at its first missing frame, starting from the last stored layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lab.measures.maps import MIN_DIST, N_NEIGHBORS, umap_2d
from lab.measures.neighbours import knn_search
from lab.measures.over_training import TAU, frame_measures
from lab.store.atomic import save_json_atomically, save_npy_atomically
from lab.store.derived import load_json
from lab.store.label_probes import snapshot_probe

TIMELINE_VERSION = 1
LATER_EPOCHS = 100  # a frame that starts from the previous layout needs fewer epochs than UMAP's 200 [L]
SUBCLASS_LABELS = "fine"
PROGRESS_DIGITS = 3  # shares of training compared to 0.1 %: 1/3 of one run meets 2/6 of another


@dataclass(frozen=True)
class Timeline:
    """A run's training movie: frames [S, M, 2] of the probe set's rows [M] after steps [S]."""

    steps: list[int]
    rows: np.ndarray  # [M] rows of the run
    frames: np.ndarray  # [S, M, 2] float32
    measures: list[dict]  # S x {"rld", "chs", "purity@10", "purity@100", "knn_acc"[, "subclass"]}
    pixels: dict | None  # the same measures on the pixel baseline's features of the same rows

    @property
    def fractions(self) -> np.ndarray:
        """[S] each snapshot's share of training done: its step over the last snapshot's, which is the
        end of training. Two runs with different step counts meet at the same share of their training."""
        return np.asarray(self.steps, dtype=np.float64) / max(self.steps[-1], 1)

    def frame_at(self, fraction: float) -> int:
        """The index of the last snapshot taken at or before `fraction` of training (the first snapshot
        when none was taken that early), to PROGRESS_DIGITS: what this run looked like at that point."""
        shares = np.round(self.fractions, PROGRESS_DIGITS)
        return max(int(np.searchsorted(shares, round(fraction, PROGRESS_DIGITS), side="right")) - 1, 0)


def _folder(run) -> Path:
    return Path(run.path) / "analysis" / f"vtimeline-{TIMELINE_VERSION}"


def _names(n_neighbors: int, min_dist: float, tau: float) -> tuple[str, str, str]:
    layout = f"n{n_neighbors}-d{min_dist:g}"
    return f"frames-{layout}", f"measures-tau{tau:g}", f"timeline-{layout}-tau{tau:g}.json"


def _frame(path: Path, m: int) -> np.ndarray | None:
    """A stored frame [m, 2], or None when missing or damaged (then it is computed again)."""
    if not path.is_file():
        return None
    try:
        xy = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return xy if xy.shape == (m, 2) and np.isfinite(xy).all() else None


def has_snapshots(run) -> bool:
    """Whether the run recorded snapshots (a stat; Run.snapshots reads them)."""
    return (Path(run.path) / "snapshots" / "steps.npy").is_file()


def stored_timeline(run, n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST, tau: float = TAU):
    """The run's whole stored timeline (Timeline), or None when it is not computed yet (or damaged)."""
    frames_dir, _, index = _names(n_neighbors, min_dist, tau)
    doc = load_json(_folder(run) / index)
    if not isinstance(doc, dict):
        return None
    rows = np.asarray(doc["rows"], dtype=np.int64)
    frames = [_frame(_folder(run) / frames_dir / f"{i}.npy", len(rows)) for i in range(len(doc["steps"]))]
    if any(f is None for f in frames):
        return None
    return Timeline(doc["steps"], rows, np.stack(frames), doc["measures"], doc.get("pixels"))


def timeline(run, pixels=None, n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST, tau: float = TAU,
             seed: int | None = None, progress: Callable[[float, str], None] | None = None) -> Timeline | None:  # fmt: skip
    """The run's timeline: loaded when stored, else computed frame by frame (resuming after the last
    stored frame), stored and returned. None when the run has no snapshots.
    pixels: the run's pixel baseline (lab.store.baselines.pixel_baseline_of) for the flat reference.
    progress(fraction, text) before each frame's layout and measures."""
    cached = stored_timeline(run, n_neighbors, min_dist, tau)
    if cached is not None:
        return cached
    snaps = run.snapshots()
    if snaps is None:
        return None
    frames_dir, measures_dir, index = _names(n_neighbors, min_dist, tau)
    folder, rows, n = _folder(run), np.asarray(snaps.rows), len(snaps.steps)
    labels, is_test = np.asarray(run.labels)[rows], np.asarray(run.is_test)[rows]
    sets = run.label_sets()
    fine = sets[SUBCLASS_LABELS][0][rows] if SUBCLASS_LABELS in sets else None
    say = progress or (lambda fraction, text: None)
    prev, frames, measures, computed = None, [], [], 0
    for i, feats in enumerate(snaps.features):
        xy = _frame(folder / frames_dir / f"{i}.npy", len(rows))
        if xy is None:
            resumed = f" (resuming after {i} stored frames)" if i > 0 and computed == 0 else ""
            computed += 1
            say(i / n, f"Laying out snapshot {i + 1} of {n} (step {snaps.steps[i]:,}){resumed}...")
            xy = _layout(np.asarray(feats, np.float32), n_neighbors, min_dist, seed, prev)
            save_npy_atomically(folder / frames_dir / f"{i}.npy", xy)
        m = load_json(folder / measures_dir / f"{i}.json")
        if not isinstance(m, dict):
            say((i + 0.5) / n, f"Measuring snapshot {i + 1} of {n}: RLD, CHS, purity, kNN accuracy...")
            m = frame_measures(np.asarray(feats, np.float32), labels, is_test, tau)
            if fine is not None:
                m["subclass"] = snapshot_probe(feats, fine, is_test)
            save_json_atomically(folder / measures_dir / f"{i}.json", m)
        prev = xy
        frames.append(xy)
        measures.append(m)
    reference = _pixel_measures(pixels, rows, labels, is_test, fine, tau, say) if pixels is not None else None
    doc = {
        "steps": [int(s) for s in snaps.steps],
        "rows": rows.tolist(),
        "measures": measures,
        "pixels": reference,
    }
    save_json_atomically(folder / index, doc)  # last: its presence means every frame is stored
    return Timeline(doc["steps"], rows, np.stack(frames), measures, reference)


def _layout(x: np.ndarray, n_neighbors: int, min_dist: float, seed: int | None, prev: np.ndarray | None):
    """One frame's UMAP on the exact cosine kNN graph of its features, from the previous frame's layout."""
    knn = None
    if len(x) > n_neighbors + 1:
        sims, idx = knn_search(x, n_neighbors - 1)
        knn = (idx, sims)
    epochs = LATER_EPOCHS if prev is not None else None
    return umap_2d(x, n_neighbors, min_dist, seed, knn=knn, epochs=epochs, init=prev)


def _pixel_measures(pixels, rows, labels, is_test, fine, tau, say) -> dict:
    say(1.0, "Measuring the pixel baseline on the same images (the flat reference)...")
    x = np.asarray(pixels.features(), np.float32)[rows]
    m = frame_measures(x, labels, is_test, tau)
    if fine is not None:
        m["subclass"] = snapshot_probe(x, fine, is_test)
    return m


def progress_points(*timelines: Timeline) -> list[float]:
    """The shares of training at which any of the timelines has a snapshot, sorted (to PROGRESS_DIGITS,
    so that two runs' snapshots at the same share meet): one slider drives several runs' movies."""
    return sorted({round(float(f), PROGRESS_DIGITS) for tl in timelines for f in tl.fractions})


def timeline_csv(tl: Timeline) -> bytes:
    """The measures over training as CSV: one row per snapshot (step, then each measure), and a last row
    "pixels" with the pixel baseline's values when there are."""
    keys = list(tl.measures[0]) if tl.measures else []
    lines = [",".join(["step", *keys])]
    lines += [",".join([str(s), *(f"{m.get(k, float('nan')):.6g}" for k in keys)]) for s, m in zip(tl.steps, tl.measures, strict=True)]  # fmt: skip
    if tl.pixels:
        lines.append(",".join(["pixels", *(f"{tl.pixels.get(k, float('nan')):.6g}" for k in keys)]))
    return ("\n".join(lines) + "\n").encode()
