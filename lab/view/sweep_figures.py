"""The sweep's lines as a figure: a measure against one axis, one line per method, the spread over seeds
(min to max) as a band; plotly only (no Streamlit)."""

from __future__ import annotations

import plotly.graph_objects as go

from lab.view.figures import PALETTE


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)}, {alpha})"


def lines_figure(lines: dict, x_title: str, y_title: str, log_x: bool = False, baseline: float | None = None,
                 baseline_name: str = "pixels (PCA-64)", height: int = 380) -> go.Figure:  # fmt: skip
    """lines: lab.sweep.report.lines(). A band where a point has more than one run (seeds)."""
    fig = go.Figure()
    for i, (name, ln) in enumerate(lines.items()):
        colour = PALETTE[i % len(PALETTE)]
        if max(ln["n"]) > 1:
            fig.add_trace(go.Scatter(x=[*ln["x"], *ln["x"][::-1]], y=[*ln["high"], *ln["low"][::-1]], fill="toself",
                                     fillcolor=_rgba(colour, 0.18), line=dict(width=0), hoverinfo="skip",
                                     showlegend=False, name=f"{name} spread"))  # fmt: skip
        fig.add_trace(go.Scatter(x=ln["x"], y=ln["mean"], mode="lines+markers", name=str(name),
                                 line=dict(color=colour, width=2), customdata=list(zip(ln["low"], ln["high"], ln["n"], strict=True)),
                                 hovertemplate="%{x}: %{y:.3f} (min %{customdata[0]:.3f}, max %{customdata[1]:.3f}, "
                                               "%{customdata[2]} runs)<extra>" + str(name) + "</extra>"))  # fmt: skip
    if baseline is not None:
        fig.add_hline(y=baseline, line=dict(color="#888888", dash="dot"), annotation_text=baseline_name,
                      annotation_position="bottom right")  # fmt: skip
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=1.08),
                      xaxis=dict(title=x_title, type="log" if log_x else "linear"), yaxis=dict(title=y_title))  # fmt: skip
    if log_x:
        xs = sorted({x for ln in lines.values() for x in ln["x"]})
        fig.update_xaxes(tickvals=xs, ticktext=[str(x) for x in xs])
    return fig


SPACE_NAMES = {"backbone": "h (backbone)", "projector": "z (projector)", "pixels": "pixels (PCA-64)"}


def label_probe_figure(rows: list[dict], probe: str = "linear", height: int = 340) -> go.Figure:
    """A run's probes per label set (lab.store.label_probes rows): one group of bars per label set, one bar
    per representation (h, z, pixels), test accuracy on the y axis."""
    fig = go.Figure()
    for i, space in enumerate(s for s in SPACE_NAMES if any(r["space"] == s for r in rows)):
        mine = [r for r in rows if r["space"] == space]
        fig.add_trace(go.Bar(x=[f"{r['labels']} ({r['classes']} classes)" for r in mine], y=[r[probe] for r in mine],
                             name=SPACE_NAMES[space], marker_color="#999999" if space == "pixels" else PALETTE[i],
                             text=[f"{r[probe]:.3f}" for r in mine], textposition="outside",
                             hovertemplate="%{y:.3f}<extra>" + SPACE_NAMES[space] + "</extra>"))  # fmt: skip
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(title=f"{probe} probe, test accuracy", range=[0, 1.08]),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))  # fmt: skip
    return fig
