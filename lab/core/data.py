"""The dataset registry: every dataset becomes uint8 tensors [N, C, H, W] held in memory.

The lab's own datasets (Fashion-MNIST, MNIST, CIFAR-10/100, scikit-learn's digits; their files:
lab.core.sources) are here; papers add theirs through their entry in lab.papers (`Paper.datasets`),
e.g. Fashion-MNIST relabelled into coarse classes. A dataset may declare training options of its own
(`DatasetSpec.params`, like a method's: the CLI and the Train page offer them). `digits` (sklearn's
8x8 digits, upscaled to 28x28) is always available and is what the tests use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lab.core import sources
from lab.core.dataset import Dataset, DatasetUnavailable
from lab.core.registry import by_name
from lab.core.sources import DEBIAN_FASHION_DIR, DIGIT_CLASSES, FASHION_CLASSES, FASHION_HOWTO, read_idx


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset by name: how to load it, how big its training split is, where its files are."""

    name: str
    load: Callable[[bool], Dataset]  # load(download allowed) -> the whole dataset
    train_size: int | None  # training images of the whole split, known without loading (None: unknown)
    locate: Callable[[], str | None]  # where its files are, without reading them; None when absent
    howto: str  # how to get it when it is absent
    params: tuple = ()  # lab.core.methods.Param: training options of this dataset (e.g. q)
    summary: str = ""
    label_sets: int = 1  # labellings its runs carry (class, and e.g. fine or digit): a sweep probes each


def _standard(name: str, load, size: int) -> DatasetSpec:
    return DatasetSpec(name, load, size, lambda: sources.locate(name), sources.howto(name))


CORE_DATASETS = (
    _standard("fashion-mnist", sources.load_fashion, 60_000),
    _standard("mnist", sources.load_mnist, 60_000),
    _standard("cifar10", lambda download: sources.load_cifar("cifar10", download), 50_000),
    _standard("cifar100", lambda download: sources.load_cifar("cifar100", download), 50_000),
    _standard("digits", sources.load_digits, 1_442),
)
DATASETS = tuple(d.name for d in CORE_DATASETS)  # the lab's own; all_datasets() adds the papers'


def all_datasets() -> dict[str, DatasetSpec]:
    """Every dataset by name: the lab's own, then each paper's (lab.papers)."""
    from lab.papers import paper_datasets  # the paper registry; imported late, it imports this module

    return by_name(CORE_DATASETS, paper_datasets(), "Dataset")


def get_dataset_spec(name: str) -> DatasetSpec:
    specs = all_datasets()
    if name not in specs:
        raise ValueError(f"Unknown dataset '{name}'. Choose one of: {', '.join(specs)}.")
    return specs[name]


def check_dataset_name(name: str) -> None:
    get_dataset_spec(name)


def train_size(name: str) -> int | None:
    """Training images of a dataset's whole split, known without loading it (None: unknown)."""
    return get_dataset_spec(name).train_size


_LOADED: dict[str, Dataset] = {}  # the process-wide cache: each dataset is read from disk once
_LOAD_LOCK = threading.RLock()  # re-entrant: a derived dataset loads the one it derives from


def _load_full(name: str, download: bool = True) -> Dataset:
    with _LOAD_LOCK:
        if name not in _LOADED:
            _LOADED[name] = get_dataset_spec(name).load(download)
        return _LOADED[name]


def load_dataset(name: str = "fashion-mnist", subset: int | None = None, seed: int = 0) -> Dataset:
    """Load a dataset into memory; `subset=N` keeps a class-balanced, seeded N-image training subset.

    The test split is always whole, so runs on different subsets are scored on the same images.
    """
    check_dataset_name(name)
    ds = _load_full(name)
    if subset is None or subset >= len(ds.train_labels):
        return ds
    if subset < ds.num_classes:
        raise ValueError(f"subset={subset} is smaller than the {ds.num_classes} classes; use at least that.")
    idx = balanced_subset(ds.train_labels, subset, seed)
    extra = {k: (tr[idx], te, names) for k, (tr, te, names) in ds.extra_labels.items()}
    return Dataset(
        ds.name, ds.train_images[idx], ds.train_labels[idx], ds.test_images, ds.test_labels,
        ds.classes, ds.source, extra, train_index=idx, make_views=ds.make_views,
    )  # fmt: skip


def balanced_subset(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Indices of a seeded subset with (nearly) equal counts per class, sorted."""
    g = torch.Generator().manual_seed(seed)
    classes = torch.unique(labels)
    per_class = [n // len(classes) + (1 if i < n % len(classes) else 0) for i in range(len(classes))]
    picks = []
    for c, m in zip(classes.tolist(), per_class, strict=True):
        idx = torch.nonzero(labels == c).squeeze(1)
        picks.append(idx[torch.randperm(len(idx), generator=g)[:m]])
    return torch.sort(torch.cat(picks)).values


def available_datasets() -> dict[str, str]:
    """Name -> source line for every dataset whose files are here, or 'unavailable: <how to get it>'.
    Looks at files only (cheap enough for every app start); nothing is downloaded or decoded."""
    out = {}
    for name, spec in all_datasets().items():
        where = spec.locate() if name not in _LOADED else _LOADED[name].source
        out[name] = where if where is not None else "unavailable: " + spec.howto.splitlines()[0]
    return out


def class_examples(name: str, n: int = 6) -> torch.Tensor:
    """One training image of each of the first n classes of a dataset: uint8 [n, C, H, W]."""
    ds = load_dataset(name)
    labels = ds.train_labels.numpy()
    rows = [int(np.flatnonzero(labels == c)[0]) for c in range(min(n, ds.num_classes))]
    return ds.train_images[rows]


__all__ = [  # re-exported from lab.core.dataset and lab.core.sources, which hold them
    "DEBIAN_FASHION_DIR", "DIGIT_CLASSES", "FASHION_CLASSES", "FASHION_HOWTO", "DATASETS", "Dataset",
    "DatasetSpec", "DatasetUnavailable", "all_datasets", "available_datasets", "balanced_subset",
    "check_dataset_name", "class_examples", "get_dataset_spec", "load_dataset", "read_idx", "train_size",
]  # fmt: skip
