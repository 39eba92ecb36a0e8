"""Probes of every label set of a run: what a linear probe and a kNN probe read off its features for
each labelling its dataset carries ("class", what it trained on, and e.g. "fine" subclasses, "digit"),
on h and on z, beside the pixel baseline. Cached with the run, and the pixels' rows with the baseline
(every run on the same images shares them):

  <run>/analysis/v<LABEL_PROBES_VERSION>/label-probes.json

Linear [P]: the lab's fixed-C logistic regression (lab.measures.probes.scores.linear_accuracy); kNN
[L, standard]: k = 20 cosine. Each fits on up to PROBE_TRAIN_ROWS stratified training rows and scores
every test row [L: keeps each probe within seconds on 2 cores]. L-BFGS stops at 200 iterations by
definition of the probe, so scikit-learn's ConvergenceWarning is not shown. docs/science.md, "Xue 2023"
("Probes per label set").
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from lab.measures.features import stratified_subsample
from lab.measures.probes.scores import knn_accuracy, linear_accuracy
from lab.store.atomic import save_json_atomically
from lab.store.baselines import PIXELS_NAME
from lab.store.derived import derived_path, load_json

LABEL_PROBES_VERSION = 1
PROBE_TRAIN_ROWS = 10_000
SPACES = ("backbone", "projector")


def _path(run):
    return derived_path(run, "label-probes.json", LABEL_PROBES_VERSION)


def probe_rows(x: np.ndarray, labels: np.ndarray, is_test: np.ndarray, seed: int = 0) -> dict:
    """Linear and kNN test accuracy of labels [N] from features x [N, d]: fit on up to PROBE_TRAIN_ROWS
    stratified training rows, score on every test row."""
    test = np.asarray(is_test)
    tr_rows = np.flatnonzero(~test)
    tr_rows = tr_rows[stratified_subsample(labels[tr_rows], PROBE_TRAIN_ROWS, seed)]
    te_rows = np.flatnonzero(test)
    a = (x[tr_rows], labels[tr_rows], x[te_rows], labels[te_rows])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(failed to converge|max_iter).*")
        linear = linear_accuracy(*a)
    return {
        "linear": linear,
        "knn": knn_accuracy(*a),
        "n_fit": len(tr_rows),
        "n_test": len(te_rows),
    }


def snapshot_probe(features: np.ndarray, labels: np.ndarray, is_test: np.ndarray) -> float:
    """The linear probe of one snapshot (lab.core.snapshots): labels [M] of its probe set read off its
    float16 features [M, F], fit on the set's training rows, scored on its test rows. The subclass curve
    (Xue et al.) and the training timeline both call this."""
    return probe_rows(np.asarray(features, np.float32), labels, is_test)["linear"]


def stored_label_probes(run) -> list[dict] | None:
    rows = load_json(_path(run))
    return rows if isinstance(rows, list) else None


def label_probes(run, pixels=None, progress: Callable[[float, str], None] | None = None) -> list[dict]:
    """Every label set of the run probed on h and z (and on the pixel baseline's features when given),
    cached: [{"representation", "space", "labels", "classes", "linear", "knn", "n_fit", "n_test"}]."""
    cached = stored_label_probes(run)
    if cached is not None:
        return cached
    sets = run.label_sets()
    pixel_rows = _stored_pixel_rows(pixels, list(sets)) if pixels is not None else []
    new_pixels = pixels is not None and not pixel_rows
    jobs = [(run, space) for space in SPACES] + ([(pixels, "pixels")] if new_pixels else [])
    out, total = [], len(jobs) * len(sets)
    for r, space in jobs:
        x = r.features("backbone" if space == "pixels" else space)
        for name, (labels, classes) in sets.items():
            if progress is not None:
                progress(len(out) / total, f"Probing the {name} labels on {space}...")
            out.append({"representation": PIXELS_NAME if space == "pixels" else run.id, "space": space,
                        "labels": name, "classes": len(classes) or int(labels.max()) + 1,
                        **probe_rows(x, labels, run.is_test)})  # fmt: skip
    if new_pixels:  # the same for every run on these images: kept with the baseline
        pixel_rows = [row for row in out if row["space"] == "pixels"]
        save_json_atomically(_path(pixels), pixel_rows)
    out = [row for row in out if row["space"] != "pixels"] + pixel_rows
    save_json_atomically(_path(run), out)
    return out


def _stored_pixel_rows(pixels, sets: list[str]) -> list[dict]:
    """The pixel baseline's probes of these label sets, when an earlier run on its images stored them."""
    rows = load_json(_path(pixels))
    ok = isinstance(rows, list) and [r.get("labels") for r in rows] == sets
    return rows if ok else []


def probe_value(
    rows: list[dict] | None, labels: str, space: str = "backbone", probe: str = "linear"
) -> float | None:
    """One number of a label-probes table (None when it lacks it)."""
    for r in rows or ():
        if r["labels"] == labels and r["space"] == space:
            return r[probe]
    return None
