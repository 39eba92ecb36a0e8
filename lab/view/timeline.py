"""The training timeline's figures (lab.store.timeline): the movie as one plotly figure whose frames,
slider and Play button run in the browser, with the loss and the measures over training beside it and
the current step marked on them; two runs' movies side by side; the movie as an animated GIF. Plain
plotly and Pillow, no streamlit; every frame is drawn on one fixed scale (standardised layouts), so a
point's move on screen is its move between frames."""

from __future__ import annotations

import io
from dataclasses import dataclass

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


@dataclass(frozen=True)
class MoviePanel:
    """One run's movie in a movie figure: its frames xy [S, M, 2] (frames_xy), the frame shown at each
    point of the slider and the heading above it there; labels [M] and their names colour the points;
    `selected` and `neighbours` (indices into the probe set) are ringed."""

    xy: np.ndarray
    shown: tuple[int, ...]
    headings: tuple[str, ...]
    labels: np.ndarray
    names: tuple
    selected: int | None = None
    neighbours: tuple[int, ...] = ()


@dataclass(frozen=True)
class CurvePanel:
    """A small chart beside the movie: lines [(name, x, y, colour)] (a name shows in the legend), a dashed
    flat `reference` (the pixels), faint vertical `ticks` (the snapshots' steps); the slider's point is
    marked on it."""

    title: str
    lines: tuple
    reference: float | None = None
    ticks: tuple = ()
    x_title: str = ""


def movie_figure(panels: list[MoviePanel], curves: list[CurvePanel], points: list[float], point_labels: list[str],
                 prefix: str, start: int, x_hover: str = "step %{x}", x_suffix: str = "") -> SentFigure:  # fmt: skip
    """The whole movie as one plotly figure with a frame per point of the slider, the slider and Play /
    Pause drawn by Plotly itself: moving through the frames needs no round trip to the server.

    points: where each frame of the figure sits on the curves' x axis (a step, or a share of training
    in %), marked there by a red line; point_labels: the slider's label of each; prefix: the text
    before the current label; start: the frame shown first. One panel: the movie on the left, the
    curves on its right, the first (the loss) across both curve columns. Several: the movies side by
    side on top, the curves three to a row below. Every frame of a panel is drawn on that panel's one
    fixed scale, so a point's move on screen is its move between frames."""
    single = len(panels) == 1
    cols = 3 if single else 6
    slots = _slots(len(panels), len(curves), single)
    rows = max(r + rs - 1 for r, _, rs, _ in slots)
    specs = [[None] * cols for _ in range(rows)]
    for r, c, rs, cs in slots:
        specs[r - 1][c - 1] = {"rowspan": rs, "colspan": cs}
    order = sorted(range(len(slots)), key=lambda n: slots[n][:2])  # make_subplots titles go row by row
    titles = [""] * len(slots)
    for n, panel in enumerate(panels):
        titles[n] = panel.headings[start]
    for n, curve in enumerate(curves):
        titles[len(panels) + n] = curve.title
    fig = make_subplots(rows=rows, cols=cols, specs=specs, subplot_titles=[titles[n] for n in order],
                        column_widths=[0.5, 0.25, 0.25] if single else None, horizontal_spacing=0.06,
                        vertical_spacing=0.1 if single else 0.07,
                        row_heights=None if single else [2.6] + [1] * (rows - 1))  # fmt: skip
    annotation_of = {n: k for k, n in enumerate(order)}  # slot -> index of its title among the annotations
    moving: list[int] = []  # the traces each frame replaces, in the order of frame_data's items

    groups = [_groups(panel) for panel in panels]
    first = _frame_data(panels, groups, len(curves), points, start)
    item = iter(first)
    for n, panel in enumerate(panels):
        _add_panel(fig, panel, slots[n][:2], n == 0, item, moving)
    named: set = set()
    for n, curve in enumerate(curves):
        _add_curve(fig, curve, slots[len(panels) + n][:2], named, moving, points[start], x_hover, x_suffix)
    annotations = [a.to_plotly_json() for a in fig.layout.annotations]

    def frame_annotations(k: int) -> list[dict]:
        out = [dict(a) for a in annotations]
        for n, panel in enumerate(panels):
            out[annotation_of[n]]["text"] = panel.headings[k]
        return out

    names = [f"f{k}" for k in range(len(points))]
    fig.frames = [go.Frame(name=names[k], traces=moving, layout=dict(annotations=frame_annotations(k)),
                           data=_frame_data(panels, groups, len(curves), points, k) if k != start else first)
                  for k in range(len(points))]  # fmt: skip
    fig.update_annotations(font=dict(family=FONT, size=13))
    height = (170 * rows + 220) if single else (190 * (rows - 1) + 460 + 220)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=90, b=120), uirevision="timeline",
                      legend=dict(orientation="h", yref="container", y=1, yanchor="top", x=0, itemsizing="constant"),
                      **_controls(names, point_labels, start, prefix))  # fmt: skip
    return chart(fig)


def _frame_data(panels, groups, n_curves: int, points, k: int) -> list[dict]:
    """What frame k changes, in the order of the moving traces: each panel's points per label, its
    neighbours' rings and its selected star, then each curve's mark."""
    out = []
    for panel, rows_of in zip(panels, groups, strict=True):
        pts = np.round(panel.xy[panel.shown[k]].astype(np.float64), 3)
        for rows_c in rows_of.values():
            out.append(dict(type="scattergl", x=pts[rows_c, 0], y=pts[rows_c, 1]))
        nb = [int(j) for j in panel.neighbours]
        if nb:
            out.append(dict(type="scatter", x=pts[nb, 0], y=pts[nb, 1]))
        if panel.selected is not None:
            out.append(dict(type="scatter", x=[pts[panel.selected, 0]], y=[pts[panel.selected, 1]]))
    out += [dict(type="scatter", x=[points[k], points[k]]) for _ in range(n_curves)]
    return out


def _add_panel(fig, panel: MoviePanel, at: tuple[int, int], legend: bool, item, moving: list[int]) -> None:
    """A movie panel's traces at subplot `at` from the first frame's data (`item`, an iterator), their
    indices appended to `moving`; its axes fixed to the panel's one scale."""
    r, c = at
    for cls in _groups(panel):
        d = next(item)
        moving.append(len(fig.data))
        fig.add_trace(go.Scattergl(x=d["x"], y=d["y"], mode="markers", name=str(panel.names[cls]),
                                   legendgroup=f"class {cls}", showlegend=legend, hoverinfo="skip",
                                   marker=dict(size=4, color=PALETTE[cls % len(PALETTE)], opacity=0.75)),
                      row=r, col=c)  # fmt: skip
    if panel.neighbours:
        d = next(item)
        moving.append(len(fig.data))
        fig.add_trace(go.Scatter(x=d["x"], y=d["y"], mode="markers", name="neighbours", hoverinfo="skip",
                                 legendgroup="neighbours", showlegend=legend,
                                 marker=dict(size=9, color="rgba(0,0,0,0)", line=dict(width=1.2, color="#31333f"))),
                      row=r, col=c)  # fmt: skip
    if panel.selected is not None:
        d = next(item)
        moving.append(len(fig.data))
        fig.add_trace(go.Scatter(x=d["x"], y=d["y"], mode="markers", name="selected", hoverinfo="skip",
                                 legendgroup="selected", showlegend=legend,
                                 marker=dict(size=18, symbol="star", color="black", line=dict(width=2, color="white"))),
                      row=r, col=c)  # fmt: skip
    lim = float(np.abs(panel.xy).max()) * 1.05
    axis = dict(visible=False, range=[-lim, lim], autorange=False, fixedrange=False)
    fig.update_xaxes(axis, row=r, col=c)
    fig.update_yaxes(axis, row=r, col=c)
    anchor = fig.get_subplot(r, c)
    fig.update_yaxes(scaleanchor=anchor.xaxis.plotly_name.replace("axis", ""), row=r, col=c)


def _add_curve(fig, curve: CurvePanel, at: tuple[int, int], named: set, moving: list[int], mark: float,
               x_hover: str, x_suffix: str) -> None:  # fmt: skip
    """A curve panel at subplot `at`: its lines (a name in the legend once, `named`), the pixels dashed,
    the ticks faint, the red mark at x = `mark` (a moving trace, its index appended to `moving`) across
    the panel's fixed y range."""
    r, c = at
    values = [float(v) for *_, y, _ in curve.lines for v in y if np.isfinite(v)]
    if curve.reference is not None and np.isfinite(curve.reference):
        values.append(float(curve.reference))
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = 0.08 * (hi - lo) or 0.05 * (abs(hi) or 1.0)
    lo, hi = lo - pad, hi + pad
    for name, x, y, colour in curve.lines:
        fig.add_trace(go.Scatter(x=np.asarray(x, dtype=np.float64), y=np.asarray(y, dtype=np.float64),
                                 mode="lines+markers" if len(x) <= 64 else "lines", name=name,
                                 line=dict(color=colour, width=2 if len(x) <= 64 else 1.5),
                                 marker=dict(size=5), showlegend=bool(name) and name not in named,
                                 legendgroup=f"run {name}",
                                 hovertemplate=f"{name} {x_hover}<br>%{{y:.4g}}<extra></extra>"),
                      row=r, col=c)  # fmt: skip
        named.add(name)
    if curve.reference is not None:
        fig.add_hline(y=curve.reference, line=dict(color="#7f7f7f", dash="dash", width=1), row=r, col=c)
    for t in curve.ticks:
        fig.add_vline(x=t, line=dict(color="rgba(49, 51, 63, 0.15)", width=1), row=r, col=c)
    moving.append(len(fig.data))
    fig.add_trace(go.Scatter(x=[mark] * 2, y=[lo, hi], mode="lines", line=dict(color=MARK, width=2),
                             hoverinfo="skip", showlegend=False), row=r, col=c)  # fmt: skip
    fig.update_yaxes(range=[lo, hi], autorange=False, row=r, col=c)
    fig.update_xaxes(
        ticksuffix=x_suffix, title=dict(text=curve.x_title) if curve.x_title else None, row=r, col=c
    )


def _controls(names: list[str], point_labels: list[str], start: int, prefix: str) -> dict:
    """The layout's slider (one animate step per frame) and Play / Pause buttons, Plotly's own."""
    go_to = dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))
    play = dict(fromcurrent=True, frame=dict(duration=int(PLAY_FRAME_S * 1000), redraw=True),
                transition=dict(duration=0), mode="immediate")  # fmt: skip
    return dict(
        sliders=[dict(active=start, x=0.16, len=0.84, y=0, yanchor="top", pad=dict(t=60, b=0),
                      currentvalue=dict(prefix=prefix, font=dict(size=14, color="#31333f")),
                      steps=[dict(method="animate", label=lab, args=[[nm], go_to]) for nm, lab in zip(names, point_labels, strict=True)])],
        updatemenus=[dict(type="buttons", direction="left", x=0.15, y=0, xanchor="right", yanchor="top",
                          pad=dict(t=95, r=10), showactive=False,
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="❚❚ Pause", method="animate", args=[[None], go_to])])],
    )  # fmt: skip


PLAY_FRAME_S = 0.8  # seconds per frame while the movie plays


def _groups(panel: MoviePanel) -> dict[int, np.ndarray]:
    """The rows of each label value that has points, in label order: one trace each."""
    labels = np.asarray(panel.labels)
    return {c: rows for c in range(len(panel.names)) if len(rows := np.flatnonzero(labels == c))}


def _slots(n_panels: int, n_curves: int, single: bool) -> list[tuple[int, int, int, int]]:
    """(row, col, rowspan, colspan) of each panel, then each curve, in movie_figure's grid."""
    if single:
        rows = 1 + (max(n_curves - 1, 0) + 1) // 2
        out = [(1, 1, rows, 1)]
        if n_curves:
            out.append((1, 2, 1, 2))
        out += [(2 + k // 2, 2 + k % 2, 1, 1) for k in range(n_curves - 1)]
        return out
    width = 6 // n_panels
    out = [(1, 1 + n * width, 1, width) for n in range(n_panels)]
    out += [(2 + k // 3, 1 + 2 * (k % 3), 1, 2) for k in range(n_curves)]
    return out


def timeline_movie(tl, losses, labels: np.ndarray, names, selected: int | None = None,
                   neighbours=()) -> SentFigure:  # fmt: skip
    """One run's training timeline (lab.store.timeline.Timeline) as a movie figure: its frames, the
    training loss with the snapshots' steps as faint lines, each measure over training with the pixels
    dashed; the last snapshot first."""
    steps = list(tl.steps)
    n = len(steps)
    panel = MoviePanel(frames_xy(tl.frames), tuple(range(n)),
                       tuple(f"Snapshot {i + 1} of {n} · after step {s:,}" for i, s in enumerate(steps)),
                       np.asarray(labels), tuple(names), selected, tuple(neighbours))  # fmt: skip
    y = np.asarray(losses, dtype=float)
    curves = [
        CurvePanel(
            "Training loss", (("", np.arange(1, len(y) + 1), y, PALETTE[0]),), None, tuple(steps), "step"
        )
    ]
    curves += _measure_curves([("", steps, tl.measures, PALETTE[0])], tl.pixels)  # x: steps, as the loss
    return movie_figure([panel], curves, [float(s) for s in steps], [f"{s:,}" for s in steps], "Step ", n - 1)


def paired_movie(runs: list[tuple[str, object, float]], points: list[float], same_images: bool,
                 labels: list[np.ndarray], names) -> SentFigure:  # fmt: skip
    """Two (or more) runs' movies side by side on one axis, the share of training done: runs is
    [(name, Timeline, epochs)], points the shares of training of the slider
    (lab.store.timeline.progress_points); each side shows its last snapshot at or before each point.
    Below, every run's measures in one chart each, one colour per run, the pixels dashed when the runs
    share their probe images."""
    panels = []
    for (name, tl, epochs), lab in zip(runs, labels, strict=True):
        shown = tuple(tl.frame_at(p) for p in points)
        n, last = len(tl.steps), tl.steps[-1]
        headings = tuple(f"<b>{name}</b> · snapshot {i + 1} of {n} · step {tl.steps[i]:,} of {last:,} · epoch "
                         f"{tl.fractions[i] * epochs:.3g} of {epochs:g}" for i in shown)  # fmt: skip
        panels.append(MoviePanel(frames_xy(tl.frames), shown, headings, np.asarray(lab), tuple(names)))
    colours = (RUN_COLOURS * len(runs))[: len(runs)]
    lines = [(name, [100 * float(f) for f in tl.fractions], tl.measures, c)
             for (name, tl, _), c in zip(runs, colours, strict=True)]  # fmt: skip
    curves = _measure_curves(lines, runs[0][1].pixels if same_images else None)
    return movie_figure(panels, curves, [100 * p for p in points], [f"{p:.0%}" for p in points],
                        "Training progress: ", len(points) - 1, "%{x:.0f} % of training", " %")  # fmt: skip


def _measure_curves(lines, pixels: dict | None) -> list[CurvePanel]:
    """One curve panel per measure that every line has; lines: [(name, x, measures, colour)]. No x title:
    the panels are small, and the slider below says what x is."""
    keys = [k for k in MEASURE_NAMES if all(m and k in m[0] for _, _, m, _ in lines)]
    return [CurvePanel(MEASURE_NAMES[k], tuple((name, x, [m[k] for m in ms], c) for name, x, ms, c in lines),
                       (pixels or {}).get(k)) for k in keys]  # fmt: skip


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
