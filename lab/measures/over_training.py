"""The measures of one snapshot of training (a frame of the training timeline): the lab's own density,
purity and probe measures on the features of a fixed probe set, so that a run's curves over training
are the same numbers its pages show at the end.

Zhang, Lu & Xuan 2023 track RLD and class homogeneity over training checkpoints; docs/science.md,
"Relative Local Density" and "Class homogeneity". Pure functions: no file I/O.
"""

from __future__ import annotations

import numpy as np

from lab.measures.density import calinski_harabasz, relative_local_density
from lab.measures.probes.scores import knn_accuracy
from lab.measures.purity import purity_curve

TAU = 0.2  # RLD's temperature on the timeline (Zhang et al.'s middle value)
PURITY_PS = (10, 100)  # neighbourhood sizes of the kNN purity curves
MEASURES = ("rld", "chs", "purity@10", "purity@100", "knn_acc")  # the keys of frame_measures
MEASURE_NAMES = {"rld": f"RLD (τ = {TAU:g})", "chs": "Calinski-Harabasz score", "purity@10": "kNN purity, p = 10",
                 "purity@100": "kNN purity, p = 100", "knn_acc": "kNN accuracy",
                 "subclass": "subclass probe (linear, fine labels)"}  # fmt: skip


def frame_measures(
    x: np.ndarray, labels: np.ndarray, is_test: np.ndarray, tau: float = TAU
) -> dict[str, float]:
    """RLD at tau, the Calinski-Harabasz score, kNN class purity at p = 10 and 100 (every row a query)
    and kNN accuracy (fit on the rows with is_test False, scored on the others) of one frame.

    x: [M, d] features of the probe set; labels: [M] class ids; is_test: [M] bool.
    Returns {"rld", "chs", "purity@10", "purity@100", "knn_acc"} as floats (knn_acc NaN without a
    test row or a training row). Example: frame_measures(h, y, is_test)["rld"].
    """
    x = np.asarray(x, dtype=np.float32)
    labels, test = np.asarray(labels), np.asarray(is_test, dtype=bool)
    ps = tuple(p for p in PURITY_PS if p < len(x))
    curve = purity_curve(x, labels, ps=ps, n_queries=len(x))
    out = {"rld": relative_local_density(x, labels, tau).value, "chs": calinski_harabasz(x, labels)}
    for p in PURITY_PS:
        out[f"purity@{p}"] = float(curve.overall[ps.index(p)]) if p in ps else float("nan")
    fit, score = ~test, test
    out["knn_acc"] = (
        knn_accuracy(x[fit], labels[fit], x[score], labels[score])
        if fit.any() and score.any()
        else float("nan")
    )
    return {k: float(v) for k, v in out.items()}


def mean_displacement(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance a point moves between two 2-D layouts a, b [M, 2], each first standardised (see
    `standardised`) so that UMAP's arbitrary scale and offset do not count: how smoothly a movie's
    frames follow each other (0 = the same picture)."""
    return float(np.linalg.norm(standardised(a) - standardised(b), axis=1).mean())


def standardised(xy: np.ndarray) -> np.ndarray:
    """A 2-D layout [M, 2] centred and divided by its RMS radius: frames drawn on one fixed scale."""
    xy = np.asarray(xy, dtype=np.float64) - np.mean(xy, axis=0)
    return xy / max(float(np.sqrt((xy**2).sum(1).mean())), 1e-12)


def coarse_layout(x: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """A quick, provisional 2-D layout of one snapshot while training runs: PCA-2 of the L2-normalised
    features (the cosine geometry the lab's measures use), standardised, then turned and mirrored
    (orthogonal Procrustes) to sit as close as it can to `previous`, so that the live frames do not flip
    between snapshots. A few milliseconds for 5,000 x 128; the aligned UMAP timeline replaces it.

    x: [M, d] features; previous: [M, 2] the layout of the snapshot before, or None.
    Returns [M, 2] float32, centred, RMS radius 1.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    x = x - x.mean(axis=0)
    _, vectors = np.linalg.eigh(x.T @ x)  # [d, d], ascending: cheaper than an SVD of x when M >> d
    xy = standardised(x @ vectors[:, ::-1][:, :2]) if x.shape[1] >= 2 else np.zeros((len(x), 2))
    if previous is not None and len(previous) == len(xy):
        u, _, wt = np.linalg.svd(xy.T @ standardised(previous))
        xy = xy @ (u @ wt)  # the rotation or reflection that best maps xy onto previous
    return xy.astype(np.float32)
