"""The datasets of Xue et al. 2023's image protocols, adapted to Fashion-MNIST [L, adapted from the
paper's CIFAR-100 coarse/fine and MNIST-on-CIFAR]; docs/science.md, "Xue 2023".

- fashion-mnist-coarse: 5 coarse classes of 2 Fashion-MNIST classes each; a run trains on the coarse
  labels and keeps the fine ones (label set "fine") for the subclass probe (class collapse, C1/C2).
- digit-on-fashion-mnist: each garment gets a random digit, independent of its class, blended where
  the digit is on: img = g (1 - m) + m (0.5 g + 0.5 digit), m the digit's intensity. Labels: the
  garment; label set "digit". Option q: with probability q a view 2 gets another digit, which breaks
  the digit as a shortcut between the views (feature suppression, C3/C4). Digits from MNIST when its
  files are here, else scikit-learn's 8x8 digits upscaled (the source line says which).
- cifar100-coarse: CIFAR-100's 20 superclasses as labels, its 100 classes as label set "fine", when
  CIFAR-100's files are here.
"""

from __future__ import annotations

import torch

from lab.core import sources
from lab.core.data import DatasetSpec, load_dataset
from lab.core.dataset import Dataset, DatasetUnavailable
from lab.core.methods import Param
from lab.papers.xue2023.constants import COARSE_CLASSES, COARSE_OF_FASHION, DIGIT_BLEND

Q = Param("q", 0.0, "Probability that view 2 gets another digit: breaks the digit shortcut (Xue et al.'s fix "
          "for suppression by better augmentation).", "[L]", low=0.0, high=1.0, step=0.05,
          label="q: view 2 gets another digit")  # fmt: skip


def _coarse(download: bool) -> Dataset:
    ds = load_dataset("fashion-mnist")
    to_coarse = torch.tensor([COARSE_OF_FASHION[c] for c in range(10)])
    return Dataset("fashion-mnist-coarse", ds.train_images, to_coarse[ds.train_labels], ds.test_images,
                   to_coarse[ds.test_labels], COARSE_CLASSES, ds.source + "; relabelled into 5 coarse classes [L]",
                   {"fine": (ds.train_labels, ds.test_labels, ds.classes)})  # fmt: skip


def _digit_pool() -> tuple[torch.Tensor, torch.Tensor, str]:
    """(digit images uint8 [D, 1, 28, 28], their labels [D], source): MNIST's training digits when its
    files are here, else scikit-learn's 1,797 digits upscaled to 28 x 28."""
    if sources.locate("mnist") is not None:
        m = load_dataset("mnist")
        return m.train_images, m.train_labels, "digits from MNIST"
    d = load_dataset("digits")
    return (torch.cat([d.train_images, d.test_images]), torch.cat([d.train_labels, d.test_labels]),
            "digits from scikit-learn's 8x8 digits, upscaled (MNIST is not here)")  # fmt: skip


def blend(garments: torch.Tensor, digits: torch.Tensor) -> torch.Tensor:
    """img = g (1 - m) + m (0.5 g + 0.5 d), m = d / 255, on uint8 [B, 1, H, W] -> uint8."""
    g, d = garments.float(), digits.float()
    m = d / 255
    return (g * (1 - m) + m * ((1 - DIGIT_BLEND) * g + DIGIT_BLEND * d)).round().clamp(0, 255).to(torch.uint8)


def _digit_on_fashion(download: bool) -> Dataset:
    ds = load_dataset("fashion-mnist")
    pool, pool_labels, digit_source = _digit_pool()
    g = torch.Generator().manual_seed(2023)
    tr_d = torch.randint(len(pool), (len(ds.train_labels),), generator=g)  # independent of the garment
    te_d = torch.randint(len(pool), (len(ds.test_labels),), generator=g)

    def make_views(device: torch.device, train_index: torch.Tensor | None):
        rows = torch.arange(len(ds.train_labels)) if train_index is None else train_index
        garments, digit_of, digits = ds.train_images[rows].to(device), tr_d[rows].to(device), pool.to(device)

        def views(idx, n_views: int, view, gen, params) -> list[torch.Tensor]:
            q, out = float(params.get("q", 0.0)), []
            for k in range(n_views):
                d = digit_of[idx]
                if k >= 1 and q > 0:  # view 2 (and later) gets another digit with probability q
                    swap = torch.rand(len(idx), generator=gen, device=device) < q
                    d = torch.where(
                        swap, torch.randint(len(digits), (len(idx),), generator=gen, device=device), d
                    )
                out.append(view(blend(garments[idx], digits[d])))
            return out

        return views

    return Dataset("digit-on-fashion-mnist", blend(ds.train_images, pool[tr_d]), ds.train_labels,
                   blend(ds.test_images, pool[te_d]), ds.test_labels, ds.classes, f"{ds.source}; {digit_source} [L]",
                   {"digit": (pool_labels[tr_d], pool_labels[te_d], tuple(str(i) for i in range(10)))},
                   make_views=make_views)  # fmt: skip


def _cifar100_coarse(download: bool) -> Dataset:
    ds = load_dataset("cifar100")
    if "coarse" not in ds.extra_labels:
        raise DatasetUnavailable(
            "CIFAR-100's files here hold no coarse labels; fetch the python version again."
        )
    tr, te, names = ds.extra_labels["coarse"]
    return Dataset("cifar100-coarse", ds.train_images, tr, ds.test_images, te, names,
                   ds.source + "; its 20 superclasses as labels", {"fine": (ds.train_labels, ds.test_labels, ds.classes)})  # fmt: skip


def _with_digits(where: str | None) -> str | None:
    if where is None:
        return None
    return where + (
        "; digits from MNIST" if sources.locate("mnist") else "; digits from scikit-learn (MNIST is not here)"
    )


DATASETS = (
    DatasetSpec("fashion-mnist-coarse", _coarse, 60_000, lambda: sources.locate("fashion-mnist"),
                sources.howto("fashion-mnist"), summary="5 coarse classes of 2 Fashion-MNIST classes each [L]",
                label_sets=2),
    DatasetSpec("digit-on-fashion-mnist", _digit_on_fashion, 60_000, lambda: _with_digits(sources.locate("fashion-mnist")),
                sources.howto("fashion-mnist"), (Q,), "a random digit blended into each garment [L]", label_sets=2),
    DatasetSpec("cifar100-coarse", _cifar100_coarse, 50_000, lambda: sources.locate("cifar100"),
                sources.howto("cifar100"), summary="CIFAR-100 with its 20 superclasses as labels [P]", label_sets=2),
)  # fmt: skip
