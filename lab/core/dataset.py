"""One dataset in memory, and the error that says how to get one that is missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch


class DatasetUnavailable(RuntimeError):
    """The dataset's files are nowhere in the lookup order; the message says how to get them."""


@dataclass(frozen=True)
class Dataset:
    """One dataset in memory. Images are uint8 [N, C, H, W]; labels are int64 [N]."""

    name: str
    train_images: torch.Tensor  # uint8 [N, C, H, W]
    train_labels: torch.Tensor  # int64 [N]
    test_images: torch.Tensor  # uint8 [M, C, H, W]
    test_labels: torch.Tensor  # int64 [M]
    classes: tuple[str, ...]
    source: str  # where the files came from, shown in the app
    # extra label sets, e.g. CIFAR-100 coarse labels: name -> (train [N], test [M], class names)
    extra_labels: dict = field(default_factory=dict)
    train_index: torch.Tensor | None = None  # rows of the full training split when subsetted
    # make_views(device, train_index) -> views(idx [B], n_views, view_fn, gen, params) -> n_views x
    # [B, C, H, W] float: for a dataset whose views are not augmentations of one stored image (composed
    # per view, e.g. a digit redrawn on a garment with probability q); train_index: the subset's rows of
    # the whole split (None: all); idx: rows of train_images. None: view_fn(train_images[idx]).
    make_views: Callable | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def describe(self) -> str:
        c, h, w = self.shape
        return (
            f"{self.name}: {len(self.train_labels):,} train / {len(self.test_labels):,} test, "
            f"{c}x{h}x{w}, {self.num_classes} classes — source: {self.source}"
        )
