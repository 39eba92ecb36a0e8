"""The datasets of Xue et al. 2023's image protocols (lab.papers.xue2023.datasets, through the lab's
registry): fashion-mnist-coarse pairs the spec's fine classes and keeps both label sets;
digit-on-fashion-mnist blends a digit drawn independently of the garment by the spec's formula, keeps
it fixed per image, swaps it in view 2 with probability q, and says where its digits came from; q is
refused, before any training, on a dataset without digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import chi2_contingency

from lab.__main__ import main
from lab.core import sources
from lab.core.config import TrainConfig
from lab.core.data import all_datasets, available_datasets, load_dataset
from lab.papers.xue2023 import datasets as xue_datasets
from lab.papers.xue2023.datasets import blend

pytestmark = pytest.mark.skipif(
    sources.locate("fashion-mnist") is None,
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)

SPEC_PAIRS = [  # ../shared/spec/ALGORITHMS.md section 4, CC-FMNIST
    {"T-shirt/top", "Shirt"},
    {"Pullover", "Coat"},
    {"Trouser", "Dress"},
    {"Sandal", "Sneaker"},
    {"Bag", "Ankle boot"},
]
HAS_MNIST = sources.locate("mnist") is not None


@pytest.fixture(scope="module")
def fashion():
    return load_dataset("fashion-mnist")


@pytest.fixture(scope="module")
def coarse():
    return load_dataset("fashion-mnist-coarse")


@pytest.fixture(scope="module")
def dof():
    """digit-on-fashion-mnist, whole (blending 70,000 images: a few seconds, once per session)."""
    return load_dataset("digit-on-fashion-mnist")


def digit_pool() -> tuple[torch.Tensor, torch.Tensor]:
    """The digits the dataset draws from when MNIST is absent: scikit-learn's, upscaled ([D, 1, 28, 28], [D])."""
    d = load_dataset("digits")
    return torch.cat([d.train_images, d.test_images]), torch.cat([d.train_labels, d.test_labels])


def digits_blended_in(garment: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """Labels of every pool digit that, blended into garment [1, H, W], gives exactly image [1, H, W]."""
    pool, labels = digit_pool()
    candidates = blend(garment.expand(len(pool), -1, -1, -1), pool)
    return labels[(candidates == image).flatten(1).all(1)]


def identity(images: torch.Tensor) -> torch.Tensor:
    return images


def two_views(ds, idx, q, seed, train_index=None):
    views = ds.make_views(torch.device("cpu"), train_index)
    gen = torch.Generator().manual_seed(seed)
    return views(idx, 2, identity, gen, {"q": q})


# ---------------------------------------------------------------- the registry
def test_both_datasets_are_in_the_registry_and_only_digits_offer_q():
    specs = all_datasets()
    assert {"fashion-mnist-coarse", "digit-on-fashion-mnist"} <= set(specs)
    assert [p.name for p in specs["digit-on-fashion-mnist"].params] == ["q"]
    assert specs["fashion-mnist-coarse"].params == () and specs["fashion-mnist"].params == ()
    assert specs["digit-on-fashion-mnist"].train_size == 60_000


# ---------------------------------------------------------------- fashion-mnist-coarse
def test_each_coarse_class_is_exactly_one_of_the_spec_pairs(coarse):
    tr_fine, te_fine, fine_names = coarse.extra_labels["fine"]
    assert coarse.num_classes == 5
    for labels, fine in ((coarse.train_labels, tr_fine), (coarse.test_labels, te_fine)):
        pairs = [{fine_names[f] for f in torch.unique(fine[labels == c]).tolist()} for c in range(5)]
        assert sorted(map(sorted, pairs)) == sorted(map(sorted, SPEC_PAIRS))
    for c, name in enumerate(coarse.classes):  # the class names say which pair they are
        pair = {fine_names[f] for f in torch.unique(tr_fine[coarse.train_labels == c]).tolist()}
        assert all(part in name for part in pair), (name, pair)


def test_the_coarse_label_is_a_function_of_the_fine_label(coarse):
    tr_fine, te_fine, _ = coarse.extra_labels["fine"]
    fine = torch.cat([tr_fine, te_fine])
    labels = torch.cat([coarse.train_labels, coarse.test_labels])
    for f in range(10):
        assert len(torch.unique(labels[fine == f])) == 1, f"fine class {f} maps to several coarse classes"
    assert torch.bincount(coarse.train_labels).tolist() == [12_000] * 5
    assert torch.bincount(coarse.test_labels).tolist() == [2_000] * 5


def test_coarse_keeps_the_fashion_images_and_their_fine_labels(coarse, fashion):
    tr_fine, te_fine, fine_names = coarse.extra_labels["fine"]
    assert torch.equal(coarse.train_images, fashion.train_images)
    assert torch.equal(coarse.test_images, fashion.test_images)
    assert torch.equal(tr_fine, fashion.train_labels) and torch.equal(te_fine, fashion.test_labels)
    assert tuple(fine_names) == fashion.classes


def test_a_coarse_subset_keeps_fine_labels_aligned_with_its_rows(coarse, fashion):
    sub = load_dataset("fashion-mnist-coarse", subset=500, seed=1)
    fine = sub.extra_labels["fine"][0]
    assert len(fine) == len(sub.train_labels) == 500
    assert torch.bincount(sub.train_labels).tolist() == [100] * 5  # balanced on the training labels
    assert torch.equal(fine, fashion.train_labels[sub.train_index])
    assert torch.equal(sub.train_labels, coarse.train_labels[sub.train_index])


# ---------------------------------------------------------------- the blend
@pytest.mark.parametrize(
    "g, d, expected",
    [
        (100, 255, 178),  # m = 1: 0.5·100 + 0.5·255 = 177.5 -> 178
        (200, 51, 185),  # m = 0.2: 200·0.8 + 0.2·(100 + 25.5) = 185.1 -> 185
        (37, 0, 37),  # no digit: the garment unchanged
        (0, 255, 128),  # a digit stroke on black: 127.5 -> 128
        (255, 255, 255),
        (120, 102, 116),  # m = 0.4: 120·0.6 + 0.4·(60 + 51) = 116.4 -> 116
    ],
)
def test_blend_follows_the_spec_formula_by_hand(g, d, expected):
    # img = g (1 − m) + m (0.5 g + 0.5 d), m = d / 255
    m = d / 255
    assert round(g * (1 - m) + m * (0.5 * g + 0.5 * d)) == expected  # the hand value is the formula's
    out = blend(
        torch.full((1, 1, 2, 2), g, dtype=torch.uint8), torch.full((1, 1, 2, 2), d, dtype=torch.uint8)
    )
    assert out.dtype == torch.uint8 and out.unique().tolist() == [expected]


def test_blend_equals_the_formula_on_random_images():
    gen = torch.Generator().manual_seed(0)
    g = torch.randint(0, 256, (8, 1, 28, 28), generator=gen, dtype=torch.uint8)
    d = torch.randint(0, 256, (8, 1, 28, 28), generator=gen, dtype=torch.uint8)
    gf, df = g.double().numpy(), d.double().numpy()
    m = df / 255
    want = gf * (1 - m) + m * (0.5 * gf + 0.5 * df)
    assert np.abs(blend(g, d).numpy() - want).max() <= 0.5 + 1e-4  # rounded to the nearest level


# ---------------------------------------------------------------- digit-on-fashion-mnist
@pytest.mark.slow
@pytest.mark.skipif(HAS_MNIST, reason="MNIST is here: the digits come from MNIST, not scikit-learn's set")
def test_every_image_is_its_garment_blended_with_a_digit_of_its_digit_label(dof, fashion):
    tr_digit, te_digit, _ = dof.extra_labels["digit"]
    assert torch.equal(dof.train_labels, fashion.train_labels) and torch.equal(
        dof.test_labels, fashion.test_labels
    )
    for i in range(0, 60_000, 1_500):  # 40 rows across the training split
        assert tr_digit[i].item() in digits_blended_in(fashion.train_images[i], dof.train_images[i]), (
            f"row {i}"
        )
        assert not torch.equal(dof.train_images[i], fashion.train_images[i])  # a digit is drawn on it
    for i in range(0, 10_000, 1_000):
        assert te_digit[i].item() in digits_blended_in(fashion.test_images[i], dof.test_images[i]), (
            f"test {i}"
        )


@pytest.mark.slow
def test_the_digit_is_independent_of_the_garment(dof):
    for garments, digit in ((dof.train_labels, dof.extra_labels["digit"][0]),
                            (dof.test_labels, dof.extra_labels["digit"][1])):  # fmt: skip
        table = np.zeros((10, 10), np.int64)
        np.add.at(table, (garments.numpy(), digit.numpy()), 1)
        assert chi2_contingency(table).pvalue > 1e-3
        freq = table / table.sum(1, keepdims=True)  # digit frequencies within each garment class
        overall = table.sum(0) / table.sum()
        tolerance = 0.02 if len(digit) == 60_000 else 0.045  # about 5 standard errors of a cell's share
        assert np.abs(freq - overall).max() < tolerance
        assert np.abs(overall - 0.1).max() < 0.02  # every digit about equally often


@pytest.mark.slow
def test_the_source_line_says_where_the_digits_came_from(dof):
    word = "MNIST" if HAS_MNIST else "scikit-learn"
    assert word in dof.source and word in dof.describe()
    assert dof.source.startswith(load_dataset("fashion-mnist").source)  # and where the garments came from
    assert word in available_datasets()["digit-on-fashion-mnist"]
    assert dof.extra_labels["digit"][2] == tuple(str(i) for i in range(10))


@pytest.mark.slow
def test_building_the_dataset_again_gives_the_same_arrays(dof):
    again = xue_datasets._digit_on_fashion(download=False)
    assert torch.equal(again.train_images, dof.train_images) and torch.equal(
        again.test_images, dof.test_images
    )
    assert torch.equal(again.extra_labels["digit"][0], dof.extra_labels["digit"][0])


@pytest.mark.slow
def test_a_subset_carries_each_images_own_digit_whatever_the_seed(dof):
    a, b = (load_dataset("digit-on-fashion-mnist", subset=400, seed=s) for s in (1, 2))
    assert not torch.equal(a.train_index, b.train_index)
    for sub in (a, b):
        assert torch.equal(sub.train_images, dof.train_images[sub.train_index])
        assert torch.equal(sub.extra_labels["digit"][0], dof.extra_labels["digit"][0][sub.train_index])


# ---------------------------------------------------------------- q: view 2's digit
@pytest.mark.slow
def test_at_q_0_both_views_are_the_stored_image(dof):
    idx = torch.arange(0, 60_000, 97)
    v1, v2 = two_views(dof, idx, q=0.0, seed=0)
    assert torch.equal(v1, dof.train_images[idx]) and torch.equal(v2, v1)


@pytest.mark.slow
def test_at_q_1_view_2_gets_another_digit_on_the_same_garment(dof, fashion):
    idx = torch.arange(0, 60_000, 97)
    v1, v2 = two_views(dof, idx, q=1.0, seed=0)
    assert torch.equal(v1, dof.train_images[idx])  # view 1 keeps the image's own digit
    differs = (v1 != v2).flatten(1).any(1).float().mean().item()
    assert differs > 0.97, differs  # another digit image (the same one only by a 1-in-1,797 draw)
    if not HAS_MNIST:  # view 2 is the same garment blended with some pool digit, of another class mostly
        own = dof.extra_labels["digit"][0][idx]
        other_class = 0
        for j in range(0, len(idx), 21):  # 25 rows
            found = digits_blended_in(fashion.train_images[idx[j]], v2[j])
            assert len(found) > 0, f"view 2 of row {idx[j]} is not its garment with a digit"
            other_class += int(own[j].item() not in found.tolist())
        assert other_class >= 15  # about 9 in 10: the new digit is drawn from the whole pool


@pytest.mark.slow
def test_q_is_the_share_of_swapped_view_2_and_is_seeded(dof):
    idx = torch.arange(0, 60_000, 59)  # 1,017 rows
    _, v2 = two_views(dof, idx, q=0.5, seed=0)
    _, again = two_views(dof, idx, q=0.5, seed=0)
    _, other = two_views(dof, idx, q=0.5, seed=1)
    swapped = (v2 != dof.train_images[idx]).flatten(1).any(1).float().mean().item()
    assert 0.4 < swapped < 0.6, swapped  # 0.5 less the rare draw of the same digit image
    assert torch.equal(v2, again)
    assert not torch.equal(v2, other)


@pytest.mark.slow
def test_views_of_a_subset_use_its_own_rows(dof):
    sub = load_dataset("digit-on-fashion-mnist", subset=300, seed=4)
    idx = torch.arange(0, 300, 3)
    v1, v2 = two_views(sub, idx, q=0.0, seed=0, train_index=sub.train_index)
    assert torch.equal(v1, sub.train_images[idx]) and torch.equal(v2, v1)


# ---------------------------------------------------------------- q refused where there are no digits
@pytest.mark.parametrize("dataset", ["fashion-mnist", "fashion-mnist-coarse", "digits"])
def test_q_on_a_dataset_without_digits_is_refused_by_the_config(dataset):
    with pytest.raises(ValueError, match=f"q is an option of digit-on-fashion-mnist, not of {dataset}"):
        TrainConfig(dataset=dataset, q=0.5)


def test_q_is_checked_and_kept_on_digit_on_fashion():
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]; got 1.5"):
        TrainConfig(dataset="digit-on-fashion-mnist", q=1.5)
    assert TrainConfig(dataset="digit-on-fashion-mnist", q=0.3).param("q") == 0.3
    assert TrainConfig(dataset="digit-on-fashion-mnist").param("q") == 0.0


def test_the_cli_refuses_q_on_plain_fashion_before_training(tmp_path, capsys, monkeypatch):
    import lab.core.train

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(lab.core.train, "train", no_training)
    assert main(["--runs-dir", str(tmp_path), "train", "--dataset", "fashion-mnist", "--q", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "q is an option of digit-on-fashion-mnist" in err and len(err.strip().splitlines()) == 1
    assert not [p for p in tmp_path.iterdir() if p.is_dir() and not p.name.startswith(".")]
