"""The training timeline's figures (lab.store.timeline): one frame of the movie, the measures over
training and the loss curve with the current step marked, and the whole movie as an animated GIF.
Plain plotly and Pillow, no streamlit; every frame is drawn on one fixed scale (standardised layouts),
so a point's move on screen is its move between frames."""

from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.measures.over_training import MEASURE_NAMES, standardised
from lab.view.figures import FONT, PALETTE, SentFigure, chart, hex_rgb

MARK = "rgba(214, 39, 40, 0.8)"  # the current step on the curves
RUN_COLOURS = ("#31333f", "#e07b00")  # two runs' lines side by side: not class colours


def frames_xy(frames: np.ndarray) -> np.ndarray:
    """Every frame [S, M, 2] standardised (lab.measures.over_training.standardised)."""
    return np.stack([standardised(f) for f in frames]).astype(np.float32)


def frame_figure(xy: np.ndarray, i: int, steps, labels: np.ndarray, names, selected: int | None = None,
                 neighbours=()) -> SentFigure:  # fmt: skip
    """Frame i of xy [S, M, 2] (frames_xy) as a WebGL scatter, one trace per label, on the axes of the
    whole movie; `selected` and `neighbours` are indices into the probe set, ringed."""
    lim = float(np.abs(xy).max()) * 1.05
    pts, labels = np.round(xy[i].astype(np.float64), 3), np.asarray(labels)
    fig = go.Figure()
    for c, name in enumerate(names):
        rows = np.flatnonzero(labels == c)
        if len(rows):
            fig.add_trace(go.Scattergl(x=pts[rows, 0], y=pts[rows, 1], mode="markers", name=str(name),
                                       marker=dict(size=4, color=PALETTE[c % len(PALETTE)], opacity=0.75),
                                       hoverinfo="skip"))  # fmt: skip
    nb = [int(j) for j in neighbours]
    if nb:
        fig.add_trace(go.Scatter(x=pts[nb, 0], y=pts[nb, 1], mode="markers", name="neighbours", hoverinfo="skip",
                                 marker=dict(size=9, color="rgba(0,0,0,0)", line=dict(width=1.2, color="#31333f"))))  # fmt: skip
    if selected is not None:
        fig.add_trace(go.Scatter(x=[pts[selected, 0]], y=[pts[selected, 1]], mode="markers", name="selected",
                                 marker=dict(size=18, symbol="star", color="black", line=dict(width=2, color="white"))))  # fmt: skip
    axis = dict(visible=False, range=[-lim, lim], fixedrange=False)
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=36, b=10), xaxis=axis, yaxis=dict(axis, scaleanchor="x"),
                      title=dict(text=f"Snapshot {i + 1} of {len(steps)} · after step {steps[i]:,}"),
                      legend=dict(itemsizing="constant"), uirevision="timeline")  # fmt: skip
    return chart(fig)


def measures_figure(steps, measures: list[dict], pixels: dict | None, step: int) -> SentFigure:
    """Each measure over training (one small panel each), the pixel baseline as a dashed flat line, the
    current step marked."""
    return _measure_panels([("", list(steps), measures, PALETTE[0])], pixels, step, "step %{x}")


def paired_measures_figure(series, pixels: dict | None, fraction: float) -> SentFigure:
    """Two (or more) runs' measures over training on one axis, the share of training done (%): series is
    [(name, fractions [S], measures [S dicts])], one colour per run; the pixel baseline dashed; the
    current share marked."""
    colours = (RUN_COLOURS * len(series))[: len(series)]
    lines = [
        (name, [100 * float(f) for f in fr], m, c) for (name, fr, m), c in zip(series, colours, strict=True)
    ]
    return _measure_panels(lines, pixels, 100 * fraction, "%{x:.0f} % of training", x_suffix=" %")


def _measure_panels(lines, pixels: dict | None, at: float, x_hover: str, x_suffix: str = "") -> SentFigure:
    """One small panel per measure that every line has; lines: [(name, x, measures, colour)] (a name
    shows a legend); `at` marked on each panel's x axis."""
    keys = [k for k in MEASURE_NAMES if all(m and k in m[0] for _, _, m, _ in lines)]
    cols = 2
    rows = (len(keys) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[MEASURE_NAMES[k] for k in keys],
                        vertical_spacing=0.12, horizontal_spacing=0.1)  # fmt: skip
    for n, key in enumerate(keys):
        r, c = n // cols + 1, n % cols + 1
        for name, x, measures, colour in lines:
            fig.add_trace(go.Scatter(x=x, y=[m[key] for m in measures], mode="lines+markers", name=name,
                                     line=dict(color=colour, width=2), showlegend=bool(name) and n == 0,
                                     legendgroup=name, hovertemplate=f"{name} {x_hover}<br>%{{y:.3f}}<extra></extra>"),
                          row=r, col=c)  # fmt: skip
        if pixels and key in pixels:
            fig.add_hline(y=pixels[key], line=dict(color="#7f7f7f", dash="dash", width=1), row=r, col=c)
        fig.add_vline(x=at, line=dict(color=MARK, width=2), row=r, col=c)
    legend = any(name for name, *_ in lines)
    fig.update_layout(height=170 * rows + (80 if legend else 40), margin=dict(l=10, r=10, t=40, b=10),
                      showlegend=legend, legend=dict(orientation="h", y=-0.05, yanchor="top"))  # fmt: skip
    fig.update_annotations(font=dict(family=FONT, size=13))
    fig.update_xaxes(ticksuffix=x_suffix)
    return chart(fig)


def loss_figure(losses, snapshot_steps, step: int) -> SentFigure:
    """The training loss per step, the snapshots' steps as faint lines and the current one marked."""
    y = np.asarray(losses, dtype=float)
    fig = go.Figure(go.Scatter(x=np.arange(1, len(y) + 1), y=y, mode="lines", line=dict(width=1.5, color=PALETTE[0]),
                               hovertemplate="step %{x}<br>loss %{y:.4f}<extra></extra>"))  # fmt: skip
    for s in snapshot_steps:
        fig.add_vline(x=s, line=dict(color="rgba(49, 51, 63, 0.15)", width=1))
    fig.add_vline(x=step, line=dict(color=MARK, width=2))
    fig.update_layout(height=200, margin=dict(l=10, r=10, t=30, b=10), title=dict(text="Training loss"),
                      xaxis=dict(title="step"), showlegend=False)  # fmt: skip
    return chart(fig)


def movie_gif(xy: np.ndarray, steps, labels: np.ndarray, selected: int | None = None, size: int = 420,
              ms: int = 700) -> bytes:  # fmt: skip
    """The movie as an animated GIF (Pillow): each frame of xy [S, M, 2] (frames_xy) as coloured dots on
    one fixed scale, its step written in a corner, `selected` (an index into the probe set) as a black
    ring. ms: how long each frame shows; the last one shows three times as long."""
    lim = float(np.abs(xy).max()) * 1.05
    images = [_dots(xy[i], lim, labels, f"step {steps[i]:,} ({i + 1}/{len(xy)})", size, selected)
              for i in range(len(xy))]  # fmt: skip
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=[ms] * (len(images) - 1) + [3 * ms])  # fmt: skip
    return out.getvalue()


LIVE_LIMIT = 2.5  # a live frame's half-width in RMS radii (standardised); the few points beyond are clipped


def live_frame_png(xy: np.ndarray, labels: np.ndarray, caption: str, size: int = 360) -> bytes:
    """A provisional frame while training runs (lab.measures.over_training.coarse_layout), as a small
    static PNG: a static image costs the browser nothing between frames, where a chart redrawn by the
    Train page's 2-s poll would (lab.view.figures.live_loss_svg says what that cost)."""
    out = io.BytesIO()
    _dots(np.clip(standardised(xy), -LIVE_LIMIT, LIVE_LIMIT), LIVE_LIMIT * 1.05, labels, caption, size).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def _dots(
    xy: np.ndarray, lim: float, labels: np.ndarray, caption: str, size: int, selected: int | None = None
):
    """One frame xy [M, 2] as a size x size Pillow image: dots in their class colours on [-lim, lim]^2,
    the caption in a corner, `selected` ringed."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(im)
    px = (np.asarray(xy, dtype=np.float64) / lim + 1) / 2 * (size - 1)
    px[:, 1] = size - 1 - px[:, 1]  # image rows grow downwards
    colours = [hex_rgb(PALETTE[c % len(PALETTE)]) for c in np.asarray(labels)]
    for (x, y), colour in zip(px.tolist(), colours, strict=True):
        draw.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=colour)
    if selected is not None:
        x, y = px[selected]
        draw.ellipse((x - 8, y - 8, x + 8, y + 8), outline="black", width=3)
    draw.text((8, 6), caption, fill="black")
    return im
