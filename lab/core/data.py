"""Dataset registry: every dataset becomes uint8 tensors [N, C, H, W] held in memory.

Lookup order for files (fashion-mnist, mnist, cifar10, cifar100):
  1. $LAB_DATA_DIR   2. ./data   3. the Debian package's folder (Fashion-MNIST only)
  4. a torchvision download into ./data (skipped when $LAB_NO_DOWNLOAD is set).
`digits` (sklearn's 8x8 digits, upscaled to 28x28) is always available and is what tests use.
"""

from __future__ import annotations

import gzip
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
DIGIT_CLASSES = tuple(str(i) for i in range(10))

FASHION_HOWTO = (
    "Fashion-MNIST was not found. Get it in one of three ways:\n"
    "  1. as root: apt-get update && apt-get install -y dataset-fashion-mnist "
    f"(puts the IDX files in {DEBIAN_FASHION_DIR});\n"
    "  2. put the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in $LAB_DATA_DIR or ./data;\n"
    "  3. on a machine with internet, let torchvision download it into ./data "
    "(unset LAB_NO_DOWNLOAD).\n"
    "The 'digits' dataset is always available meanwhile."
)


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


def _data_roots() -> list[Path]:
    roots = []
    if os.environ.get("LAB_DATA_DIR"):
        roots.append(Path(os.environ["LAB_DATA_DIR"]))
    roots.append(Path("data"))
    return roots


def _downloads_allowed(download: bool) -> bool:
    return download and not os.environ.get("LAB_NO_DOWNLOAD")


def read_idx(path: Path) -> np.ndarray:
    """Read a (possibly gzipped) IDX file, the format of MNIST and Fashion-MNIST."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: expected {int(np.prod(dims))} values, found {data.size}.")
    return data.reshape(dims)


def _find_idx_folder(stem_dirs: list[Path]) -> Path | None:
    """First folder holding the four IDX files (gzipped or not)."""
    for d in stem_dirs:
        for prefix in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            if not any((d / (prefix + ext)).exists() for ext in (".gz", "")):
                break
        else:
            return d
    return None


def _idx_file(folder: Path, stem: str) -> Path:
    gz = folder / (stem + ".gz")
    return gz if gz.exists() else folder / stem


def _load_idx_pair(folder: Path) -> tuple[torch.Tensor, ...]:
    out = []
    for split in ("train", "t10k"):
        images = read_idx(_idx_file(folder, f"{split}-images-idx3-ubyte"))
        labels = read_idx(_idx_file(folder, f"{split}-labels-idx1-ubyte"))
        out += [torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))]
    return tuple(out)


def _load_mnist_like(name: str, tv_name: str, sub: str, classes, download: bool, extra_dirs=()) -> Dataset:
    candidates = []
    for root in _data_roots():
        candidates += [root / sub, root, root / tv_name / "raw"]
    candidates += list(extra_dirs)
    folder = _find_idx_folder(candidates)
    if folder is not None:
        tr_x, tr_y, te_x, te_y = _load_idx_pair(folder)
        where = "Debian package dataset-fashion-mnist" if folder == DEBIAN_FASHION_DIR else "local files"
        return Dataset(name, tr_x, tr_y, te_x, te_y, classes, f"{where} ({folder})")
    if _downloads_allowed(download):
        import torchvision

        cls = getattr(torchvision.datasets, tv_name)
        try:
            tr = cls("data", train=True, download=True)
            te = cls("data", train=False, download=True)
        except Exception as exc:  # no network, partial download, ...
            raise DatasetUnavailable(_howto(name) + f"\n(torchvision download failed: {exc})") from exc
        return Dataset(
            name, tr.data.unsqueeze(1).clone(), tr.targets.long(), te.data.unsqueeze(1).clone(),
            te.targets.long(), classes, "torchvision download (./data)",
        )  # fmt: skip
    raise DatasetUnavailable(_howto(name))


def _howto(name: str) -> str:
    if name == "fashion-mnist":
        return FASHION_HOWTO
    return (
        f"{name} was not found in $LAB_DATA_DIR or ./data (torchvision's folder layout), and "
        "downloads are off or failed. On a machine with internet, unset LAB_NO_DOWNLOAD and torchvision "
        "downloads it into ./data. The 'digits' dataset is always available meanwhile."
    )


def _load_fashion(download: bool) -> Dataset:
    return _load_mnist_like(
        "fashion-mnist", "FashionMNIST", "fashion-mnist", FASHION_CLASSES, download, [DEBIAN_FASHION_DIR]
    )


def _load_mnist(download: bool) -> Dataset:
    return _load_mnist_like("mnist", "MNIST", "mnist", DIGIT_CLASSES, download)


def _load_cifar(name: str, download: bool) -> Dataset:
    import torchvision

    cls = torchvision.datasets.CIFAR10 if name == "cifar10" else torchvision.datasets.CIFAR100
    splits = None
    for root in _data_roots():
        try:
            splits = [cls(str(root), train=t, download=False) for t in (True, False)]
            source = f"local files ({root})"
            break
        except RuntimeError:
            continue
    if splits is None:
        if not _downloads_allowed(download):
            raise DatasetUnavailable(_howto(name))
        try:
            splits = [cls("data", train=t, download=True) for t in (True, False)]
        except Exception as exc:
            raise DatasetUnavailable(_howto(name) + f"\n(torchvision download failed: {exc})") from exc
        source = "torchvision download (./data)"

    def as_tensor(ds):
        return torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous(), torch.tensor(ds.targets)

    (tr_x, tr_y), (te_x, te_y) = as_tensor(splits[0]), as_tensor(splits[1])
    extra = {}
    if name == "cifar100":
        coarse = [_cifar100_coarse(root_ds) for root_ds in splits]
        if all(c is not None for c in coarse):
            extra["coarse"] = (coarse[0], coarse[1], CIFAR100_COARSE_CLASSES)
    return Dataset(name, tr_x, tr_y, te_x, te_y, tuple(splits[0].classes), source, extra)


CIFAR100_COARSE_CLASSES = (
    "aquatic mammals", "fish", "flowers", "food containers", "fruit and vegetables",
    "household electrical devices", "household furniture", "insects", "large carnivores",
    "large man-made outdoor things", "large natural outdoor scenes", "large omnivores and herbivores",
    "medium-sized mammals", "non-insect invertebrates", "people", "reptiles", "small mammals",
    "trees", "vehicles 1", "vehicles 2",
)  # fmt: skip


def _cifar100_coarse(ds) -> torch.Tensor | None:
    """Coarse labels from the same files torchvision read (its loader keeps only the fine ones)."""
    import pickle  # noqa: S403 — CIFAR-100 ships as Python pickles; these are the dataset's own files

    base = Path(ds.root) / ds.base_folder
    names = ds.train_list if ds.train else ds.test_list
    coarse = []
    for fname, _ in names:
        with open(base / fname, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        if "coarse_labels" not in entry:
            return None
        coarse += entry["coarse_labels"]
    return torch.tensor(coarse)


def _load_digits(download: bool = False) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)  # [1797, 1, 8, 8] in [0, 1]
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    x = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    y = torch.from_numpy(d.target.astype(np.int64))
    # A fixed, class-stratified 80/20 split so every run sees the same test set.
    g = torch.Generator().manual_seed(1234)
    test_mask = torch.zeros(len(y), dtype=torch.bool)
    for c in range(10):
        idx = torch.nonzero(y == c).squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        test_mask[idx[: len(idx) // 5]] = True
    return Dataset(
        "digits", x[~test_mask], y[~test_mask], x[test_mask], y[test_mask], DIGIT_CLASSES,
        "scikit-learn's bundled 8x8 digits, upscaled to 28x28",
    )  # fmt: skip


LOADERS = {
    "fashion-mnist": _load_fashion,
    "mnist": _load_mnist,
    "cifar10": lambda download: _load_cifar("cifar10", download),
    "cifar100": lambda download: _load_cifar("cifar100", download),
    "digits": _load_digits,
}
DATASETS = tuple(LOADERS)
# Training images of each dataset's standard split, known without reading its files: a subset of at
# least this many is the whole set, and gets the whole set's run id (lab.core.config).
TRAIN_SIZES = {
    "fashion-mnist": 60_000,
    "mnist": 60_000,
    "cifar10": 50_000,
    "cifar100": 50_000,
    "digits": 1_442,
}


def check_dataset_name(name: str) -> None:
    if name not in LOADERS:
        raise ValueError(f"Unknown dataset '{name}'. Choose one of: {', '.join(DATASETS)}.")


_LOADED: dict[str, Dataset] = {}  # the process-wide cache: each dataset is read from disk once
_LOAD_LOCK = threading.Lock()


def _load_full(name: str, download: bool = True) -> Dataset:
    with _LOAD_LOCK:
        if name not in _LOADED:
            _LOADED[name] = LOADERS[name](download)
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
        ds.classes, ds.source, extra, train_index=idx,
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


def _locate(name: str) -> str | None:
    """Where a dataset's files are, without reading them (None when not on disk)."""
    if name == "digits":
        return "scikit-learn's bundled 8x8 digits, upscaled to 28x28"
    if name in _LOADED:
        return _LOADED[name].source
    if name in ("fashion-mnist", "mnist"):
        tv_name, sub = ("FashionMNIST", "fashion-mnist") if name == "fashion-mnist" else ("MNIST", "mnist")
        candidates = [p for root in _data_roots() for p in (root / sub, root, root / tv_name / "raw")]
        if name == "fashion-mnist":
            candidates.append(DEBIAN_FASHION_DIR)
        folder = _find_idx_folder(candidates)
        if folder is None:
            return None
        return f"{'Debian package dataset-fashion-mnist' if folder == DEBIAN_FASHION_DIR else 'local files'} ({folder})"
    base = "cifar-10-batches-py" if name == "cifar10" else "cifar-100-python"
    for root in _data_roots():
        if (root / base).is_dir():
            return f"local files ({root})"
    return None


def available_datasets() -> dict[str, str]:
    """Name -> source line for every dataset whose files are here, or 'unavailable: <how to get it>'.
    Looks at files only (cheap enough for every app start); nothing is downloaded or decoded."""
    out = {}
    for name in DATASETS:
        where = _locate(name)
        out[name] = where if where is not None else "unavailable: " + _howto(name).splitlines()[0]
    return out


def class_examples(name: str, n: int = 6) -> torch.Tensor:
    """One training image of each of the first n classes of a dataset: uint8 [n, C, H, W]."""
    ds = load_dataset(name)
    labels = ds.train_labels.numpy()
    rows = [int(np.flatnonzero(labels == c)[0]) for c in range(min(n, ds.num_classes))]
    return ds.train_images[rows]
