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


def test_two_runs_measures_share_one_axis_of_training_progress_with_the_point_marked():
    from lab.view.timeline import paired_measures_figure

    a = [{"rld": 0.1 * i, "knn_acc": 0.5 + 0.1 * i, "subclass": 0.3} for i in range(3)]
    b = [{"rld": 0.2 * i, "knn_acc": 0.4 + 0.1 * i} for i in range(4)]
    fig = paired_measures_figure(
        [("supcon", [0.2, 0.6, 1.0], a), ("joint", [0.25, 0.5, 0.75, 1.0], b)], None, 0.5
    )
    names = [t.name for t in fig.data]
    assert names.count("supcon") == names.count("joint") == 2  # rld and knn_acc; subclass only one run has
    assert [t.name for t in fig.data if t.showlegend] == ["supcon", "joint"]
    assert (
        list(fig.data[1].x) == [25, 50, 75, 100] and fig.layout.xaxis.ticksuffix == " %"
    )  # percent of training
    assert len([s for s in fig.layout.shapes if s.x0 == s.x1 == 50]) == 2


def test_a_live_frame_is_a_small_png():
    from lab.view.timeline import live_frame_png

    png = live_frame_png(_frames()[0] * 100, np.arange(60) % 3, "step 5 - provisional", size=150)
    im = Image.open(io.BytesIO(png))
    assert im.format == "PNG" and im.size == (150, 150)
    assert len(set(im.convert("RGB").getdata())) > 3  # dots in class colours on white
