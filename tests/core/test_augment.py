"""Batched augmentation: identity at strength 0, shapes and ranges, seeded determinism."""

import pytest
import torch

from lab.core.augment import AugmentParams, augment, make_generator


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8, generator=g)


def test_strength_zero_is_the_identity(batch):
    out = augment(batch, AugmentParams.from_strength(0.0), make_generator(0, "cpu"))
    assert torch.equal(out, batch.float() / 255)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("strength", [0.3, 1.0])
def test_views_keep_shape_dtype_and_range(channels, strength):
    x = torch.randint(0, 256, (8, channels, 32, 32), dtype=torch.uint8)
    out = augment(x, AugmentParams.from_strength(strength), make_generator(1, "cpu"))
    assert out.shape == x.shape and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, x.float() / 255)


def test_same_seed_gives_the_same_batch_and_another_seed_does_not(batch):
    p = AugmentParams.from_strength(0.8)
    a = augment(batch, p, make_generator(7, "cpu"))
    b = augment(batch, p, make_generator(7, "cpu"))
    c = augment(batch, p, make_generator(8, "cpu"))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_strength_maps_to_the_spec_settings():
    p = AugmentParams.from_strength(1.0)
    assert p.crop_min_area == pytest.approx(0.2) and p.brightness == pytest.approx(0.4)
    assert p.flip_p == 0.5 and p.blur_p == pytest.approx(0.5) and p.gray_p == pytest.approx(0.2)
    half = AugmentParams.from_strength(0.5)
    assert half.crop_min_area == pytest.approx(0.6) and half.contrast == pytest.approx(0.2)


def test_a_single_op_can_be_set_on_its_own(batch):
    flip_only = AugmentParams.from_strength(0.0, flip_p=1.0)
    out = augment(batch, flip_only, make_generator(0, "cpu"))
    assert torch.allclose(out, batch.float().flip(-1) / 255, atol=1e-5)


def test_stronger_augmentation_moves_images_further(batch):
    x = batch.float() / 255
    dist = [
        (augment(batch, AugmentParams.from_strength(s), make_generator(3, "cpu")) - x).abs().mean().item()
        for s in (0.1, 1.0)
    ]
    assert dist[1] > dist[0]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match=r"strength must be in \[0, 1\]"):
        AugmentParams.from_strength(1.5)
    with pytest.raises(ValueError, match="Unknown augmentation op"):
        AugmentParams.from_strength(0.5, sharpen=1.0)
