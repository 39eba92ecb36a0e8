"""The tilting2025 pages' figures, as plotly data (no streamlit): the 2-D example's conditionals, the
canonical spectrum, the sweeps, and the image–label demo's bars. Every number comes from a stored result
(lab.papers.tilting2025.results); each figure goes through lab.view.figures.chart (drawn once)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.papers.tilting2025.constants import EXAMPLE_COV, IMAGE_LOSSES, LOSSES
from lab.view.figures import PALETTE, chart

LOSS_COLOURS = {name: PALETTE[i] for i, name in enumerate([*LOSSES, *IMAGE_LOSSES])}


def _lines(fig, v, slope, var, colour, name, col, dash, legend, band=False) -> None:
    """mean = slope · v and mean ± 1 sd in one panel: as dotted lines, or as a filled band."""
    mean, sd = slope * v, np.sqrt(var)
    hover = f"{name}: E[u|v] = {slope:.3f} v, Var = {var:.3f}<extra></extra>"
    if band:
        rgb = tuple(int(colour[j : j + 2], 16) for j in (1, 3, 5))
        fig.add_trace(go.Scatter(x=np.concatenate([v, v[::-1]]), y=np.concatenate([mean + sd, (mean - sd)[::-1]]),
                                 fill="toself", fillcolor=f"rgba{(*rgb, 0.2)}", line=dict(width=0), hoverinfo="skip",
                                 showlegend=False), row=1, col=col)  # fmt: skip
    else:
        for edge in (mean + sd, mean - sd):
            fig.add_trace(go.Scatter(x=v, y=edge, mode="lines", line=dict(color=colour, width=1, dash="dot"),
                                     hoverinfo="skip", showlegend=False), row=1, col=col)  # fmt: skip
    fig.add_trace(go.Scatter(x=v, y=mean, mode="lines", name=name, legendgroup=name, showlegend=legend,
                             line=dict(color=colour, width=2, dash=dash), hovertemplate=hover), row=1, col=col)  # fmt: skip


def example_figure(panels: list[dict], tilt: str, samples: int = 300) -> go.Figure:
    """One panel per loss (results.example_conditionals, one tilt): samples of μ; the true u|v (black: mean,
    dotted ±1 sd); the model's u|v mean in closed form (dashed) and as trained (solid, with its ±1 sd band)."""
    rows = [p for p in panels if p["tilt"] == tilt]
    fig = make_subplots(1, len(rows), shared_yaxes=True, subplot_titles=[f"{p['loss']} loss" for p in rows],
                        horizontal_spacing=0.03)  # fmt: skip
    x = np.random.default_rng(0).multivariate_normal([0, 0], np.array(EXAMPLE_COV), samples)
    v = np.linspace(-3.5, 3.5, 30)
    for i, p in enumerate(rows, start=1):
        first, colour = i == 1, LOSS_COLOURS[p["loss"]]
        fig.add_trace(go.Scattergl(x=x[:, 1], y=x[:, 0], mode="markers", marker=dict(size=3, color="#cccccc"),
                                   hoverinfo="skip", showlegend=False), row=1, col=i)  # fmt: skip
        if p["trained_slope"] is not None:
            _lines(
                fig,
                v,
                p["trained_slope"],
                p["trained_var"],
                colour,
                "trained (±1 sd)",
                i,
                None,
                first,
                band=True,
            )
        if p["closed_slope"] is not None:
            fig.add_trace(go.Scatter(x=v, y=p["closed_slope"] * v, mode="lines", name="closed form [D]",
                                     legendgroup="closed", showlegend=first, line=dict(color=colour, width=2, dash="dash"),
                                     hovertemplate=f"closed form: E[u|v] = {p['closed_slope']:.3f} v, Var = "
                                     f"{p['closed_var']:.3f}<extra></extra>"), row=1, col=i)  # fmt: skip
        _lines(fig, v, p["true_slope"], p["true_var"], "#000000", "truth u|v (±1 sd dotted)", i, None, first)
        fig.update_xaxes(title_text="v", range=[-3.5, 3.5], zeroline=False, row=1, col=i)
    fig.update_yaxes(title_text="u", range=[-5, 5], zeroline=False, row=1, col=1)
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=-0.35, x=0))  # fmt: skip
    return chart(fig)


def spectrum_figure(result: dict) -> go.Figure:
    """The true canonical correlations, the loss's closed-form spectrum and the learned one (whitened A)."""
    s = result["spectrum"]
    idx = [f"direction {i + 1}" for i in range(len(s["true"]))]
    fig = go.Figure()
    bars = [("true canonical correlations σ", s["true"], "#999999"),
            ("closed form of this loss [D]", s["closed_form"], "#4c78a8"),
            ("learned (whitened A)", s["learned"], LOSS_COLOURS[result["config"]["loss"]])]  # fmt: skip
    for name, values, colour in bars:
        if values is not None:
            fig.add_trace(go.Bar(x=idx, y=values, name=name, marker_color=colour,
                                 hovertemplate="%{y:.4f}<extra>" + name + "</extra>"))  # fmt: skip
    fig.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis_title="singular value", legend=dict(orientation="h", y=1.12, x=0))  # fmt: skip
    return chart(fig)


def loss_curve_figure(result: dict, every: int) -> go.Figure:
    y = result["losses"]
    fig = go.Figure(go.Scatter(x=list(range(0, every * len(y), every)), y=y, mode="lines", line=dict(width=1.5),
                               hovertemplate="step %{x}<br>batch loss %{y:.4f}<extra></extra>"))  # fmt: skip
    fig.update_layout(
        height=300, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="step", yaxis_title="batch loss"
    )
    return chart(fig)


SWEEP_PANELS = (
    ("angle", "largest principal angle (°)", None),
    ("mean", "conditional-mean error", "closed-form mean"),
    ("spectrum_bias", "spectrum vs closed form (relative)", None),
)


def sweep_figure(rows: list[dict], axis_label: str, side: str = "u|v") -> go.Figure:
    """Three panels against the swept value, one line per loss: the largest principal angle, the model's
    conditional-mean error (the closed form's dotted) and the learned spectrum's deviation from the
    closed form's (the finite-batch bias)."""
    fig = make_subplots(1, 3, subplot_titles=[title for _, title, _ in SWEEP_PANELS], horizontal_spacing=0.07)
    x_of = {v: "∞" if v is None else f"{v:,}" for v in dict.fromkeys(r["value"] for r in rows)}
    for loss in dict.fromkeys(r["loss"] for r in rows):
        mine = [r for r in rows if r["loss"] == loss]
        x = [x_of[r["value"]] for r in mine]
        for col, (key, _, closed) in enumerate(SWEEP_PANELS, start=1):
            name = key if key != "mean" else f"mean {side}"
            fig.add_trace(go.Scatter(x=x, y=[r[name] for r in mine], mode="lines+markers", name=loss,
                                     legendgroup=loss, showlegend=col == 1, line=dict(color=LOSS_COLOURS[loss]),
                                     hovertemplate=f"{loss}: %{{y:.4g}}<extra></extra>"), row=1, col=col)  # fmt: skip
            if closed:
                fig.add_trace(go.Scatter(x=x, y=[r[f"{closed} {side}"] for r in mine], mode="lines",
                                         line=dict(color=LOSS_COLOURS[loss], dash="dot", width=1),
                                         name=f"{loss}, closed form", legendgroup=loss, showlegend=False,
                                         hovertemplate=f"{loss}, closed form: %{{y:.4g}}<extra></extra>"),
                              row=1, col=col)  # fmt: skip
        for col in (1, 2, 3):
            fig.update_xaxes(title_text=axis_label, type="category", row=1, col=col)
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=-0.4, x=0))  # fmt: skip
    return chart(fig)


def image_label_figure(demo: dict) -> go.Figure:
    """Two panels, one bar per loss and the reference: the mean largest label probability (sharpness) and
    the effective sample size of the images drawn for a label (diversity, log scale)."""
    names = [*demo["losses"], "reference"]
    rows = [*demo["losses"].values(), demo["reference"]]
    colours = [LOSS_COLOURS.get(n, "#999999") for n in names]
    fig = make_subplots(1, 2, subplot_titles=["sharpness: mean largest p(label | image)",
                                              "diversity: effective sample size of images drawn for a label"])  # fmt: skip
    fig.add_trace(go.Bar(x=names, y=[r["max_probability"] for r in rows], marker_color=colours, showlegend=False,
                         hovertemplate="%{x}: %{y:.3f}<extra></extra>"), row=1, col=1)  # fmt: skip
    fig.add_trace(go.Bar(x=names, y=[r["ess"] for r in rows], marker_color=colours, showlegend=False,
                         hovertemplate="%{x}: %{y:.1f}<extra></extra>"), row=1, col=2)  # fmt: skip
    fig.update_yaxes(range=[0, 1], row=1, col=1)
    fig.update_yaxes(type="log", dtick=1, row=1, col=2)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10))
    return chart(fig)
