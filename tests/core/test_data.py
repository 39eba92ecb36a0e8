"""Dataset registry: digits always loads; Fashion-MNIST when present; clear errors otherwise."""

import gzip
import struct

import numpy as np
import pytest
import torch

from lab.core import data, sources
from lab.core.data import DatasetUnavailable, load_dataset, read_idx

HAS_FASHION = (data.DEBIAN_FASHION_DIR / "train-images-idx3-ubyte.gz").exists()


def test_digits_always_loads_as_uint8_images():
    ds = load_dataset("digits")
    assert ds.train_images.dtype == torch.uint8 and ds.train_images.shape[1:] == (1, 28, 28)
    assert len(ds.train_labels) + len(ds.test_labels) == 1797
    assert set(ds.train_labels.unique().tolist()) == set(range(10))
    assert ds.classes == tuple(str(i) for i in range(10))
    assert "scikit-learn" in ds.source


def test_subset_is_class_balanced_and_seeded():
    a = load_dataset("digits", subset=200, seed=1)
    b = load_dataset("digits", subset=200, seed=1)
    c = load_dataset("digits", subset=200, seed=2)
    assert torch.bincount(a.train_labels).tolist() == [20] * 10
    assert torch.equal(a.train_index, b.train_index)
    assert not torch.equal(a.train_index, c.train_index)
    assert len(a.test_labels) == len(load_dataset("digits").test_labels)  # the test split stays whole


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown dataset 'fashion'. Choose one of: fashion-mnist"):
        load_dataset("fashion")


def test_read_idx_parses_and_rejects_truncated_files(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    good = tmp_path / "x-idx3-ubyte.gz"
    with gzip.open(good, "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 3, 4) + arr.tobytes())
    assert np.array_equal(read_idx(good), arr)
    bad = tmp_path / "bad-idx3-ubyte"
    bad.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 3, 4) + arr.tobytes()[:5])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(bad)


def test_missing_fashion_mnist_names_the_three_ways_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LAB_NO_DOWNLOAD", "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetUnavailable) as err:
        sources.load_fashion(download=True)
    msg = str(err.value)
    assert (
        "apt-get install -y dataset-fashion-mnist" in msg and "LAB_DATA_DIR" in msg and "torchvision" in msg
    )


def test_fashion_mnist_loads_from_lab_data_dir_layout(tmp_path, monkeypatch):
    """The lookup order starts at $LAB_DATA_DIR: files placed there win over everything else."""
    imgs = np.zeros((3, 28, 28), np.uint8)
    for split, n in (("train", 3), ("t10k", 3)):
        with gzip.open(tmp_path / f"{split}-images-idx3-ubyte.gz", "wb") as f:
            f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", n, 28, 28) + imgs.tobytes())
        with gzip.open(tmp_path / f"{split}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", n) + bytes([0, 1, 2]))
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path))
    ds = sources.load_fashion(download=False)
    assert len(ds.train_labels) == 3 and str(tmp_path) in ds.source


@pytest.mark.skipif(
    not HAS_FASHION, reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
)
def test_fashion_mnist_has_the_standard_splits():
    ds = load_dataset("fashion-mnist")
    assert ds.train_images.shape == (60000, 1, 28, 28) and ds.test_images.shape == (10000, 1, 28, 28)
    assert torch.bincount(ds.train_labels).tolist() == [6000] * 10
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    assert "Debian" in ds.source or "local" in ds.source
