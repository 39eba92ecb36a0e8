"""The trivial baseline every run is shown beside: PCA-64 of raw pixels (docs/science.md, "Fidelity").

Computed once per (dataset, subset, seed) and cached under <runs>/_baselines/, features included,
so that probes and maps can put a "pixels (PCA-64)" row next to every learned representation.
`pixel_baseline_of(run)` presents it with a run's rows, labels and split, so every analysis runs on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lab.core.data import load_dataset
from lab.measures.probes.scores import knn_accuracy, linear_accuracy
from lab.store.atomic import save_json_atomically, save_npy_atomically

PCA_DIMS = 64
PIXELS_NAME = f"pixels (PCA-{PCA_DIMS})"
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
        "name": PIXELS_NAME,
        "knn_acc": knn_accuracy(x[:n], y[:n], x[n:], y[n:]),
        "linear_acc": linear_accuracy(x[:n], y[:n], x[n:], y[n:]),
    }
    save_npy_atomically(folder / "features.npy", x)
    save_json_atomically(metrics_file, metrics)  # written last: its presence means the entry is whole
    return metrics


def load_pixel_features(dataset: str, subset: int | None, seed: int, root: Path) -> np.ndarray:
    """The cached PCA-64 pixel features (computing the baseline first when needed)."""
    pixel_baseline(dataset, subset, seed, root)
    return np.load(baseline_folder(root, dataset, subset, seed) / "features.npy")


@dataclass
class PixelBaseline:
    """PCA-64 of raw pixels with the rows, labels and split of a run (docs/science.md, "Fidelity").

    Looks like a Run to the analyses and to lab.store.neighbours (path, labels, is_test, features), so
    every analysis also runs on pixels; its caches live in the baseline's folder.
    """

    path: Path
    dataset: str
    subset: int | None
    seed: int
    root: Path
    labels: np.ndarray
    is_test: np.ndarray

    @property
    def id(self) -> str:
        return self.path.name

    def features(self, space: str = "backbone") -> np.ndarray:
        """The PCA-64 pixels [N, 64] (one space: `space` is accepted and ignored)."""
        return load_pixel_features(self.dataset, self.subset, self.seed, self.root)

    def title(self) -> str:
        return f"{PIXELS_NAME} · {self.dataset}"


def pixel_baseline_of(run, compute: bool = True) -> PixelBaseline | None:
    """The raw-pixel baseline on the same images, rows and split as `run` (computed once, cached).
    compute=False: None when it is not cached yet (a page asks the worker for it instead)."""
    c = run.config
    root = Path(run.path).parent
    folder = baseline_folder(root, c.dataset, c.subset, c.seed)
    if not compute and not (folder / "metrics.json").is_file():
        return None
    base = PixelBaseline(folder, c.dataset, c.subset, c.seed, root, run.labels, run.is_test)
    if len(base.features()) != len(run.labels):
        raise ValueError(
            f"the pixel baseline of {c.dataset} has other rows than run {run.id}; delete {folder}."
        )
    return base
