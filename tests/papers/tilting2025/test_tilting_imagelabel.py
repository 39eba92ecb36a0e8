"""lab.papers.tilting2025.imagelabel: the image–label losses (cross-entropy is the label|image loss) and
the measures of sharpness and diversity, on constructed inputs; the demo end to end on digits."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lab.papers.tilting2025.imagelabel import ImageLabelConfig, image_label_loss, run_image_label


def batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(32, 10, generator=g, dtype=torch.float64), torch.randint(0, 10, (32,), generator=g)


def test_the_label_given_image_loss_is_cross_entropy_up_to_the_prior():
    s, y = batch()
    prior = torch.full((10,), 0.1, dtype=torch.float64)
    ce = F.cross_entropy(s, y)
    assert float(image_label_loss(s, y, prior.log(), "label|image")) == pytest.approx(
        float(ce) - math.log(10)
    )


def test_the_two_sided_loss_is_the_mean_of_the_one_sided_ones():
    s, y = batch(1)
    lp = torch.full((10,), -math.log(10), dtype=torch.float64)
    halves = [float(image_label_loss(s, y, lp, loss)) for loss in ("label|image", "image|label")]
    assert float(image_label_loss(s, y, lp, "two-sided")) == pytest.approx(sum(halves) / 2)


def test_label_given_image_cannot_see_a_shift_per_image_and_image_given_label_can():
    s, y = batch(2)
    lp = torch.full((10,), -math.log(10), dtype=torch.float64)
    shifted = s + 5 * torch.randn(32, 1, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    assert float(image_label_loss(shifted, y, lp, "label|image")) == pytest.approx(
        float(image_label_loss(s, y, lp, "label|image"))
    )
    assert float(image_label_loss(shifted, y, lp, "image|label")) != pytest.approx(
        float(image_label_loss(s, y, lp, "image|label"))
    )


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="at least 2 images"):
        ImageLabelConfig(batch=1)
    with pytest.raises(ValueError, match="Unknown loss"):
        image_label_loss(*batch(), torch.zeros(10), "joint")


@pytest.mark.trains
def test_the_demo_runs_on_digits_and_measures_every_loss():
    demo = run_image_label(ImageLabelConfig(dataset="digits", epochs=2.0, batch=128, pool=300, draws=8))
    assert set(demo["losses"]) == {"label|image", "image|label", "two-sided"}
    ref = demo["reference"]
    assert ref["max_probability"] == pytest.approx(0.1, abs=0.01) and ref["entropy"] == pytest.approx(
        math.log(10), abs=0.01
    )
    for m in demo["losses"].values():
        assert 0 <= m["accuracy"] <= 1 and 1 <= m["ess"] <= 300 and len(m["per_label"]) == 10
        assert all(len(p["drawn"]) == 8 and 1 <= p["distinct"] <= 8 for p in m["per_label"])
