"""The training timeline's figures and movie (lab.view.timeline): every frame on one scale, the current
step marked on the curves, and a GIF with one picture per snapshot."""

import io

import numpy as np
from PIL import Image

from lab.view.timeline import frame_figure, frames_xy, loss_figure, measures_figure, movie_gif

STEPS = [5, 10, 15]


def _frames():
    rng = np.random.default_rng(0)
    return np.stack([rng.normal(size=(60, 2)) * (i + 1) + 10 * i for i in range(3)])  # drifting, growing


def test_frames_are_drawn_on_one_scale_whatever_umap_made_of_them():
    xy = frames_xy(_frames())
    assert np.allclose(xy.mean(axis=1), 0, atol=1e-6)
    assert np.allclose(np.sqrt((xy.astype(np.float64) ** 2).sum(2).mean(1)), 1, atol=1e-5)
    fig = frame_figure(xy, 1, STEPS, np.arange(60) % 3, ("a", "b", "c"), selected=4, neighbours=(5, 6))
    assert "Snapshot 2 of 3" in fig.layout.title.text and fig.layout.xaxis.range == fig.layout.yaxis.range


def test_the_current_step_is_marked_on_the_loss_and_the_measures():
    measures = [{"rld": 0.1 * i, "knn_acc": 0.5 + 0.1 * i} for i in range(3)]
    fig = measures_figure(STEPS, measures, {"rld": 0.05, "knn_acc": 0.9}, step=10)
    marks = [s for s in fig.layout.shapes if s.x0 == s.x1 == 10]
    assert len(marks) == 2  # one per measure's panel
    assert any(s.y0 == s.y1 == 0.9 for s in fig.layout.shapes)  # the pixels' flat line
    loss = loss_figure(np.linspace(2, 1, 15), STEPS, step=15)
    assert any(s.x0 == 15 and "214" in s.line.color for s in loss.layout.shapes)


def test_the_movie_is_a_gif_with_one_picture_per_snapshot():
    gif = movie_gif(frames_xy(_frames()), STEPS, np.arange(60) % 3, selected=0, size=120)
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF" and im.n_frames == 3 and im.size == (120, 120)
