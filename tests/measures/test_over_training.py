"""The measures of a training timeline's frames (lab.measures.over_training) on a constructed sequence
whose answer is known: classes that form out of noise raise every measure, and frames that do not move
have no displacement."""

import numpy as np
from constructed import clustered

from lab.measures.over_training import MEASURES, frame_measures, mean_displacement


def _forming(share: float, seed: int = 0):
    """400 points of 4 classes: share 0 is pure noise, share 1 tight well-separated classes."""
    x, y = clustered(n=400, d=16, classes=4, spread=0.3, seed=seed)
    noise = np.random.default_rng(seed + 1).normal(size=x.shape).astype(np.float32) * 3
    return (share * x + (1 - share) * noise).astype(np.float32), y


def test_classes_forming_out_of_noise_raise_every_measure_over_the_frames():
    is_test = np.arange(400) % 5 == 0
    frames = [frame_measures(*_forming(s), is_test) for s in (0.0, 0.5, 1.0)]
    assert set(MEASURES) == set(frames[0])
    for key in MEASURES:
        values = [f[key] for f in frames]
        assert values[0] < values[1] <= values[2] + 1e-9, (key, values)
    assert abs(frames[0]["purity@10"] - 0.25) < 0.1  # noise: about one neighbour in four of the class
    assert abs(frames[0]["knn_acc"] - 0.25) < 0.15  # chance with 4 classes
    assert frames[-1]["purity@10"] == 1.0 and frames[-1]["knn_acc"] == 1.0  # separated classes


def test_a_frame_that_does_not_move_has_no_displacement_whatever_its_scale():
    xy = np.random.default_rng(0).normal(size=(100, 2))
    assert mean_displacement(xy, 7 * xy + 3) < 1e-9
    assert mean_displacement(xy, -xy) > 1.0  # a mirrored map is a different picture


def test_a_coarse_live_layout_separates_formed_classes_and_keeps_the_previous_frames_orientation():
    from lab.measures.over_training import coarse_layout

    x, y = _forming(1.0)
    xy = coarse_layout(x)
    assert xy.shape == (400, 2) and xy.dtype == np.float32
    assert frame_measures(xy, y, np.arange(400) % 5 == 0)["knn_acc"] > 0.9  # the classes stay apart in 2-D
    turned = xy @ np.array([[0.0, 1.0], [1.0, 0.0]]) * np.array([-1.0, 1.0])  # mirrored and turned
    again = coarse_layout(x, previous=turned)
    assert np.abs(again - turned).max() < 1e-4  # the same frame lands on the previous one
    assert np.abs(coarse_layout(x) - turned).max() > 0.5  # which it does not on its own
