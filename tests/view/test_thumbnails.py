"""lab.view: sharp framed thumbnails and the live loss curve."""

from __future__ import annotations

import numpy as np

from lab.view import thumbnails


def test_thumbnails_are_sharp_rgb_and_framed():
    img = np.zeros((1, 4, 4), np.uint8)
    img[0, 1, 1] = 200
    t = thumbnails.thumbnail(img, scale=3, frame=(255, 0, 0), border=1)
    assert t.shape == (12, 12, 3) and t.dtype == np.uint8
    assert (t[0, 0] == (255, 0, 0)).all() and (t[3:6, 3:6] == 200).all()


def test_the_live_loss_curve_draws_every_step_within_its_frame_and_labels_the_range():
    import re

    from lab.view.figures import live_loss_svg

    losses = [6.0, 5.0, 5.5, 4.0]
    svg = live_loss_svg(losses, total_steps=10, width=300, height=120)
    points = re.search(r'<polyline [^>]*points="([^"]+)"', svg).group(1).split()
    xy = np.array([[float(v) for v in p.split(",")] for p in points])
    assert len(xy) == 4 and (np.diff(xy[:, 0]) > 0).all(), "one vertex per step, left to right"
    assert xy[:, 0].max() < 300 / 2, "4 of 10 steps fill under half of the width"
    assert xy[3, 1] == xy[:, 1].max() and xy[0, 1] == xy[:, 1].min(), "the lowest loss is drawn lowest"
    assert ">6.000<" in svg and ">4.000<" in svg and ">step 10<" in svg
    long = live_loss_svg(np.linspace(5, 1, 5000), total_steps=5000)
    assert len(re.search(r'points="([^"]+)"', long).group(1).split()) <= 801
    assert "<polyline" not in live_loss_svg([], total_steps=10) and live_loss_svg([], 10).endswith("</svg>")
