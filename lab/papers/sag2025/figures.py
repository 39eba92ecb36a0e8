"""The kNN-graph page's plotly figures (plain data, no streamlit): the neighbourhood graph with its walks,
the training walks replayed over the map, and where walks end. Drawn with lab.view.figures' house style."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lab.view.figures import FONT, PALETTE, chart

WALK_COLOURS = ("#000000", "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf")


def _segments(pos: np.ndarray, edges: np.ndarray) -> tuple[list, list]:
    """x and y lists of line segments (None between them) for the edges [E, 2] of points pos [m, 2]."""
    xs, ys = [], []
    for u, v in np.asarray(edges).tolist():
        xs += [float(pos[u, 0]), float(pos[v, 0]), None]
        ys += [float(pos[u, 1]), float(pos[v, 1]), None]
    return xs, ys


def _walk_traces(fig: go.Figure, pos: np.ndarray, paths: np.ndarray) -> None:
    """One trace per walk: its path as a line, each step numbered at the point it reaches, the end
    marked with a cross. Named "walk 1", "walk 2", ... (the browser test looks for them)."""
    for w, path in enumerate(np.asarray(paths)):
        colour = WALK_COLOURS[w % len(WALK_COLOURS)]
        fig.add_trace(go.Scatter(
            x=pos[path, 0], y=pos[path, 1], mode="lines+markers+text", name=f"walk {w + 1}",
            line=dict(color=colour, width=2), opacity=0.8, legendgroup="walks", showlegend=w == 0,
            text=[""] + [str(s) for s in range(1, len(path))], textposition="top center",
            textfont=dict(size=10, color=colour),
            marker=dict(size=[0] + [5] * (len(path) - 2) + [11], symbol=["circle"] * (len(path) - 1) + ["x"],
                        color=colour),
            hovertemplate=f"walk {w + 1}, step %{{text}}<extra></extra>",
        ))  # fmt: skip


def _style(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=34, b=0), plot_bgcolor="white",
                      title=dict(text=title, font=dict(size=14), x=0.01, xanchor="left"),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"),
                      legend=dict(itemsizing="constant"), hovermode="closest", clickmode="event+select",
                      dragmode="pan", font=dict(family=FONT))  # fmt: skip
    return fig


def graph_figure(nb, pos: np.ndarray, paths: np.ndarray | None, names, title: str) -> go.Figure:
    """The neighbourhood graph: same-class edges grey, cross-class edges red and dashed, nodes coloured
    by class (each carries its run row in customdata, for clicks), the selected image starred, and the
    walks (positions in nb.rows) drawn as numbered paths. nb: graphview.Neighbourhood; pos: [m, 2]."""
    fig = go.Figure()
    cross = nb.labels[nb.edges[:, 0]] != nb.labels[nb.edges[:, 1]] if len(nb.edges) else np.zeros(0, bool)
    for mask, name, line in ((~cross, "same-class edge", dict(color="rgba(120,120,120,0.35)", width=1)),
                             (cross, "cross-class edge", dict(color="rgba(214,39,40,0.45)", width=1, dash="dot"))):  # fmt: skip
        xs, ys = _segments(pos, nb.edges[mask])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line=line, hoverinfo="skip"))
    for c in np.unique(nb.labels).tolist():
        at = np.flatnonzero(nb.labels == c)
        fig.add_trace(go.Scatter(
            x=pos[at, 0], y=pos[at, 1], mode="markers", name=names[c], customdata=nb.rows[at],
            marker=dict(size=8, color=PALETTE[c % len(PALETTE)], line=dict(width=0.5, color="white")),
            hovertemplate=f"<b>{names[c]}</b><br>image row %{{customdata}}<br>hop %{{text}}<extra></extra>",
            text=nb.hops[at],
        ))  # fmt: skip
    if paths is not None:
        _walk_traces(fig, pos, paths)
    fig.add_trace(go.Scatter(x=[pos[0, 0]], y=[pos[0, 1]], mode="markers", name="selected image",
                             marker=dict(size=20, symbol="star", color="gold", line=dict(width=1.5, color="black")),
                             hoverinfo="skip"))  # fmt: skip
    return chart(_style(fig, title, 560))


def replay_figure(xy: np.ndarray, labels: np.ndarray, walk_rows: np.ndarray, names, title: str) -> go.Figure:
    """Training walks (run rows [w, t + 1]) over the run's whole map xy [N, 2], drawn faint by class."""
    fig = go.Figure()
    xy = np.round(np.asarray(xy, dtype=np.float64), 3)
    for c in np.unique(labels).tolist():
        at = np.flatnonzero(labels == c)
        fig.add_trace(go.Scattergl(x=xy[at, 0], y=xy[at, 1], mode="markers", name=names[c], hoverinfo="skip",
                                   marker=dict(size=3, color=PALETTE[c % len(PALETTE)], opacity=0.25)))  # fmt: skip
    _walk_traces(fig, xy, np.asarray(walk_rows))
    return chart(_style(fig, title, 520))


def endpoint_figure(end_counts: np.ndarray, names, start_class: int, title: str) -> go.Figure:
    """Walks ending in each class; the start's class in its colour, the others grey."""
    colours = [PALETTE[c % len(PALETTE)] if c == start_class else "#bbbbbb" for c in range(len(end_counts))]
    fig = go.Figure(go.Bar(x=list(names)[: len(end_counts)], y=np.asarray(end_counts), marker_color=colours))
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=30, b=10), xaxis_type="category",
                      yaxis_title="walks", title=dict(text=title, font=dict(size=13)))  # fmt: skip
    return chart(fig)
