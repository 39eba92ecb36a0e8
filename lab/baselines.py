"""The trivial baseline every run is shown beside: PCA-64 of raw pixels (ALGORITHMS.md section 7).

Computed once per (dataset, subset, seed) and cached under <runs>/_baselines/, features included,
so that probes and maps can put a "pixels (PCA-64)" row next to every learned representation.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from lab.data import load_dataset
from lab.evaluate import knn_accuracy, linear_accuracy

PCA_DIMS = 64
# Bump when the baseline's scores change meaning (a new probe, say): old cache entries are then
# recomputed instead of shown beside runs scored the new way.
BASELINE_VERSION = 2


def baseline_folder(root: Path, dataset: str, subset: int | None, seed: int) -> Path:
    return Path(root) / "_baselines" / f"{dataset}-{subset or 'all'}-{seed}-v{BASELINE_VERSION}"


def pixel_features(dataset: str, subset: int | None = None, seed: int = 0) -> np.ndarray:
    """PCA-64 of raw pixels (fit on the training rows) for train rows then test rows: [N+M, 64]."""
    from sklearn.decomposition import PCA

    ds = load_dataset(dataset, subset, seed)
    tr = ds.train_images.flatten(1).float().numpy() / 255
    te = ds.test_images.flatten(1).float().numpy() / 255
    pca = PCA(n_components=min(PCA_DIMS, *tr.shape), random_state=0).fit(tr)
    return np.concatenate([pca.transform(tr), pca.transform(te)]).astype(np.float32)


def pixel_baseline(dataset: str, subset: int | None, seed: int, root: Path) -> dict:
    """kNN and linear accuracy of PCA-64 pixels on the same split as the runs; cached on disk."""
    folder = baseline_folder(root, dataset, subset, seed)
    metrics_file = folder / "metrics.json"
    if metrics_file.is_file():
        try:
            return json.loads(metrics_file.read_text())
        except json.JSONDecodeError:
            pass  # a damaged cache entry: recompute it below
    ds = load_dataset(dataset, subset, seed)
    x = pixel_features(dataset, subset, seed)
    y = torch.cat([ds.train_labels, ds.test_labels]).numpy()
    n = len(ds.train_labels)
    metrics = {
        "name": f"pixels (PCA-{PCA_DIMS})",
        "knn_acc": knn_accuracy(x[:n], y[:n], x[n:], y[n:]),
        "linear_acc": linear_accuracy(x[:n], y[:n], x[n:], y[n:]),
    }
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "features.npy", x, allow_pickle=False)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(metrics, f, indent=2)
    os.replace(tmp, metrics_file)
    return metrics


def load_pixel_features(dataset: str, subset: int | None, seed: int, root: Path) -> np.ndarray:
    """The cached PCA-64 pixel features (computing the baseline first when needed)."""
    pixel_baseline(dataset, subset, seed, root)
    return np.load(baseline_folder(root, dataset, subset, seed) / "features.npy")
