"""The training timeline's figures and movie (lab.view.timeline): one figure whose animation frames hold
every snapshot on one scale and move the current step's mark on the curves, with Plotly's own slider and
Play; two runs side by side on the share of training; a GIF with one picture per snapshot."""

import io
from types import SimpleNamespace

import numpy as np
from PIL import Image

from lab.view.timeline import frames_xy, movie_gif, paired_movie, timeline_movie

STEPS = [5, 10, 15]


def _frames():
    rng = np.random.default_rng(0)
    return np.stack([rng.normal(size=(60, 2)) * (i + 1) + 10 * i for i in range(3)])  # drifting, growing


def _timeline(steps=STEPS, measures=None, pixels=None):
    last = steps[-1]
    fr = np.asarray(steps, dtype=float) / last

    def frame_at(f):
        return max(int(np.searchsorted(np.round(fr, 4), round(f, 4), side="right")) - 1, 0)

    measures = measures or [{"rld": 0.1 * i, "knn_acc": 0.5 + 0.1 * i} for i in range(len(steps))]
    frames = np.stack([_frames()[i % 3] for i in range(len(steps))])
    return SimpleNamespace(steps=list(steps), frames=frames, measures=measures, pixels=pixels,
                           fractions=fr, frame_at=frame_at)  # fmt: skip


def _marker_x(frame: dict) -> list:
    return [d["x"] for d in frame["data"] if len(d["x"]) == 2 and d["x"][0] == d["x"][1]]


def test_frames_are_drawn_on_one_scale_whatever_umap_made_of_them():
    xy = frames_xy(_frames())
    assert np.allclose(xy.mean(axis=1), 0, atol=1e-6)
    assert np.allclose(np.sqrt((xy.astype(np.float64) ** 2).sum(2).mean(1)), 1, atol=1e-5)
    fig = timeline_movie(_timeline(), np.linspace(2, 1, 15), np.arange(60) % 3, ("a", "b", "c"), 4, (5, 6))
    assert fig.layout.xaxis.range == fig.layout.yaxis.range and fig.layout.xaxis.autorange is False
    lim = fig.layout.xaxis.range[1]
    d = fig.to_dict()
    for frame in d["frames"]:  # every frame's points inside the one fixed range
        assert max(abs(v) for t in frame["data"][:3] for v in t["x"] + t["y"]) <= lim


def test_the_movie_holds_every_snapshot_and_moves_the_mark_in_the_browser():
    labels = np.arange(60) % 3
    fig = timeline_movie(_timeline(pixels={"rld": 0.05, "knn_acc": 0.9}), np.linspace(2, 1, 15), labels,
                         ("a", "b", "c"), selected=4, neighbours=(5, 6))  # fmt: skip
    d = fig.to_dict()  # what Streamlit sends: the frames go with the figure
    assert [f["name"] for f in d["frames"]] == ["f0", "f1", "f2"]
    titles = [[a["text"] for a in f["layout"]["annotations"]] for f in d["frames"]]
    assert [t[0] for t in titles] == ["Snapshot 1 of 3 · after step 5", "Snapshot 2 of 3 · after step 10",
                                      "Snapshot 3 of 3 · after step 15"]  # fmt: skip
    assert all("Training loss" in t and "RLD (τ = 0.2)" in t and "kNN accuracy" in t for t in titles)
    xy = frames_xy(_timeline().frames)
    for k, frame in enumerate(d["frames"]):
        first = frame["data"][0]  # label "a": rows 0, 3, 6, ...
        assert np.allclose(first["x"], np.round(xy[k][labels == 0, 0], 3))
        assert frame["data"][3]["x"] == list(np.round(xy[k][[5, 6], 0], 3))  # the neighbours' rings
        assert frame["data"][4]["x"] == [round(float(xy[k][4, 0]), 3)]  # the selected star
        assert {x[0] for x in _marker_x(frame)} == {STEPS[k]}  # loss + 2 measures marked at the step
        assert len(_marker_x(frame)) == 3
        assert len(frame["traces"]) == len(frame["data"])
    moving = set(d["frames"][0]["traces"])
    static = [t for n, t in enumerate(d["data"]) if n not in moving]
    assert len(static) == 3  # the loss curve and two measures' lines stay put
    assert any(s["y0"] == s["y1"] == 0.9 for s in d["layout"]["shapes"])  # the pixels' flat line
    assert sum(s["x0"] == s["x1"] for s in d["layout"]["shapes"]) == 3  # the snapshots' steps, faint
    slider = d["layout"]["sliders"][0]
    assert slider["active"] == 2 and [s["label"] for s in slider["steps"]] == ["5", "10", "15"]
    assert [s["args"][0] for s in slider["steps"]] == [["f0"], ["f1"], ["f2"]]
    assert all(s["method"] == "animate" for s in slider["steps"])
    buttons = d["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == ["▶ Play", "❚❚ Pause"] and buttons[0]["args"][1]["fromcurrent"]
    assert "Snapshot 3 of 3" in d["layout"]["annotations"][0]["text"]  # the last snapshot first


def test_the_movie_is_a_gif_with_one_picture_per_snapshot():
    gif = movie_gif(frames_xy(_frames()), STEPS, np.arange(60) % 3, selected=0, size=120)
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF" and im.n_frames == 3 and im.size == (120, 120)


def test_two_runs_play_side_by_side_on_the_share_of_training_done():
    a = _timeline([2, 4, 6], [{"rld": 0.1 * i, "knn_acc": 0.5 + 0.1 * i, "subclass": 0.3} for i in range(3)])
    b = _timeline([1, 2, 3, 4], [{"rld": 0.2 * i, "knn_acc": 0.4 + 0.1 * i} for i in range(4)])
    points = [0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0]
    labels = [np.arange(60) % 3] * 2
    fig = paired_movie([("supcon", a, 1.0), ("joint", b, 2.0)], points, False, labels, ("x", "y", "z"))
    d = fig.to_dict()
    names = [t.get("name") for t in d["data"]]
    assert names.count("supcon") == names.count("joint") == 2  # rld and knn_acc; subclass only one run has
    assert [t["name"] for t in d["data"] if t.get("showlegend") and t["name"] in ("supcon", "joint")] == [
        "supcon",
        "joint",
    ]
    joint = [t for t in d["data"] if t.get("name") == "joint"][0]
    assert joint["x"] == [25, 50, 75, 100] and d["layout"]["xaxis3"]["ticksuffix"] == " %"
    heads = [[an["text"] for an in f["layout"]["annotations"][:2]] for f in d["frames"]]
    # at 25 %: supcon has no snapshot yet (its first is at 1/3), so shows its first; joint its first
    assert heads[0] == ["<b>supcon</b> · snapshot 1 of 3 · step 2 of 6 · epoch 0.333 of 1",
                        "<b>joint</b> · snapshot 1 of 4 · step 1 of 4 · epoch 0.5 of 2"]  # fmt: skip
    assert "snapshot 2 of 3" in heads[3][0] and "snapshot 2 of 4" in heads[3][1]  # at 2/3: last at or before
    assert [{x[0] for x in _marker_x(f)} for f in d["frames"]] == [{100 * p} for p in points]
    assert not any(
        s.get("y0") == s.get("y1") for s in d["layout"].get("shapes", [])
    )  # no pixels: other images
    assert d["layout"]["sliders"][0]["steps"][2]["label"] == "50%"


def test_a_live_frame_is_a_small_png():
    from lab.view.timeline import live_frame_png

    png = live_frame_png(_frames()[0] * 100, np.arange(60) % 3, "step 5 - provisional", size=150)
    im = Image.open(io.BytesIO(png))
    assert im.format == "PNG" and im.size == (150, 150)
    assert len(set(im.convert("RGB").getdata())) > 3  # dots in class colours on white
