"""Where the standard datasets come from: Fashion-MNIST, MNIST, CIFAR-10/100 files and scikit-learn's
digits, each read into a Dataset of uint8 tensors (lab.core.data is the registry that names them).

Lookup order for files (fashion-mnist, mnist, cifar10, cifar100):
  1. $LAB_DATA_DIR   2. ./data   3. the Debian package's folder (Fashion-MNIST only)
  4. a torchvision download into ./data (skipped when $LAB_NO_DOWNLOAD is set).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lab.core.dataset import Dataset, DatasetUnavailable

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
            raise DatasetUnavailable(howto(name) + f"\n(torchvision download failed: {exc})") from exc
        return Dataset(
            name, tr.data.unsqueeze(1).clone(), tr.targets.long(), te.data.unsqueeze(1).clone(),
            te.targets.long(), classes, "torchvision download (./data)",
        )  # fmt: skip
    raise DatasetUnavailable(howto(name))


def howto(name: str) -> str:
    if name == "fashion-mnist":
        return FASHION_HOWTO
    return (
        f"{name} was not found in $LAB_DATA_DIR or ./data (torchvision's folder layout), and "
        "downloads are off or failed. On a machine with internet, unset LAB_NO_DOWNLOAD and torchvision "
        "downloads it into ./data. The 'digits' dataset is always available meanwhile."
    )


def load_fashion(download: bool) -> Dataset:
    return _load_mnist_like(
        "fashion-mnist", "FashionMNIST", "fashion-mnist", FASHION_CLASSES, download, [DEBIAN_FASHION_DIR]
    )


def load_mnist(download: bool) -> Dataset:
    return _load_mnist_like("mnist", "MNIST", "mnist", DIGIT_CLASSES, download)


def load_cifar(name: str, download: bool) -> Dataset:
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
            raise DatasetUnavailable(howto(name))
        try:
            splits = [cls("data", train=t, download=True) for t in (True, False)]
        except Exception as exc:
            raise DatasetUnavailable(howto(name) + f"\n(torchvision download failed: {exc})") from exc
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


def load_digits(download: bool = False) -> Dataset:
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


def locate(name: str) -> str | None:
    """Where a dataset's files are, without reading them (None when not on disk)."""
    if name == "digits":
        return "scikit-learn's bundled 8x8 digits, upscaled to 28x28"
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
