"""The linear-toy page's figures, as plotly data (no streamlit): the CC toy's subclass curves and its 3-D
scatter at four moments, and the FS toy's lines against p and against q. Every number comes from a
stored toy result (lab.papers.xue2023.toys, toys_fs); each figure goes through lab.view.figures.chart
(drawn once)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.papers.xue2023.toys import CC_LOSSES, SPEC_CC, CCResult
from lab.view.figures import PALETTE, chart

LOSS_COLOURS = dict(zip(CC_LOSSES, PALETTE, strict=False))
CELL_COLOURS = (
    "#9ecae1",
    "#08519c",
    "#fdae6b",
    "#a63603",
)  # (class, subclass) 00, 01, 10, 11: two shades a class


def _chance(fig: go.Figure) -> None:
    fig.add_hline(y=0.5, line=dict(color="#999999", dash="dot", width=1), annotation_text="chance",
                  annotation_position="bottom right")  # fmt: skip


def cc_loss_name(name: str, alpha: float) -> str:
    return {"UCL": "UCL (unsupervised)", "SCL": "SCL (supervised)"}.get(name, f"joint (α = {alpha:g})")


def cc_curve_figure(r: CCResult, spec: bool = False) -> go.Figure:
    """Within-class subclass probe accuracy over the GD steps, one line per loss; the scatter's moments
    as dotted verticals; with spec, the spec's measured points (black crosses)."""
    fig = go.Figure()
    for name, acc in r.subclass_acc.items():
        label = cc_loss_name(name, r.config.alpha)
        fig.add_trace(go.Scatter(x=r.steps, y=acc, mode="lines", name=label, line=dict(color=LOSS_COLOURS[name], width=2),
                                 hovertemplate=f"{label}<br>step %{{x}}: %{{y:.2f}}<extra></extra>"))  # fmt: skip
    if spec:
        for name, points in SPEC_CC.items():
            fig.add_trace(go.Scatter(x=list(points), y=list(points.values()), mode="markers", name=f"spec, {name} [D]",
                                     marker=dict(symbol="x", size=8, color=LOSS_COLOURS[name], line=dict(width=1, color="black")),
                                     hovertemplate=f"spec, {name}: step %{{x}}: %{{y:.2f}}<extra></extra>"))  # fmt: skip
    for step in r.scatter_steps:
        fig.add_vline(x=float(step), line=dict(color="#cccccc", dash="dot", width=1))
    _chance(fig)
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.25),
                      title=dict(text="Within-class subclass probe over training", font=dict(size=13)),
                      xaxis=dict(title="gradient-descent step"), yaxis=dict(title="subclass accuracy", range=[0.35, 1.03]))  # fmt: skip
    return chart(fig)


def cc_scatter_figure(r: CCResult, loss: str) -> go.Figure:
    """The training points' embeddings (first 3 dimensions, centred and scaled as the probe sees them) at
    the four moments, coloured by class (blue, orange) and subclass (light, dark)."""
    emb = r.embeddings[loss]  # [4, n, 3]
    reach = float(np.abs(emb).max()) * 1.05 or 1.0
    titles = [f"step {s:,}" for s in r.scatter_steps]
    fig = make_subplots(1, 4, specs=[[{"type": "scene"}] * 4], subplot_titles=titles, horizontal_spacing=0.01)
    cell = 2 * r.classes + r.subclasses
    for i, points in enumerate(emb, start=1):
        for k in range(4):
            rows = cell == k
            fig.add_trace(go.Scatter3d(x=points[rows, 0], y=points[rows, 1], z=points[rows, 2], mode="markers",
                                       name=f"class {k // 2}, subclass {k % 2}", legendgroup=str(k), showlegend=i == 1,
                                       marker=dict(size=2.5, color=CELL_COLOURS[k]), hoverinfo="skip"), row=1, col=i)  # fmt: skip
    axis = dict(range=[-reach, reach], showticklabels=False, title="")
    fig.update_scenes(xaxis=axis, yaxis=axis, zaxis=axis, aspectmode="cube")
    fig.update_layout(height=320, margin=dict(l=0, r=0, t=30, b=0), legend=dict(orientation="h", y=-0.05))
    return chart(fig)


def fs_p_figure(lines: list, k_e: int) -> go.Figure:
    """The relevant probe against the embedding size p, one line per FS result (toys_fs.FSResult, axis
    "p"); a dotted vertical at p = k_e."""
    fig = go.Figure()
    for i, line in enumerate(lines):
        fig.add_trace(go.Scatter(x=line.values, y=line.accuracy, mode="lines+markers", name=line.config.label,
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2),
                                 hovertemplate=f"{line.config.label}<br>p = %{{x}}: %{{y:.3f}}<extra></extra>"))  # fmt: skip
    fig.add_vline(x=k_e, line=dict(color="#999999", dash="dot", width=1), annotation_text="p = k_e")
    _chance(fig)
    ticks = sorted({int(v) for line in lines for v in line.values})
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.3),
                      title=dict(text="Relevant-feature probe against the embedding size", font=dict(size=13)),
                      xaxis=dict(title="embedding size p", type="log", tickvals=ticks),
                      yaxis=dict(title="probe accuracy on y", range=[0.35, 1.03]))  # fmt: skip
    return chart(fig)


def fs_q_figure(line) -> go.Figure:
    """The relevant probe against q (the chance that view 2 redraws the easy feature), at one p."""
    fig = go.Figure(go.Scatter(x=line.values, y=line.accuracy, mode="lines+markers", name=line.config.label,
                               line=dict(color=PALETTE[0], width=2),
                               hovertemplate="q = %{x}: %{y:.3f}<extra></extra>"))  # fmt: skip
    _chance(fig)
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      title=dict(text=f"Relevant-feature probe against q ({line.config.label})", font=dict(size=13)),
                      xaxis=dict(title="q: chance that view 2 redraws the easy feature", range=[-0.03, 1.03]),
                      yaxis=dict(title="probe accuracy on y", range=[0.35, 1.03]))  # fmt: skip
    return chart(fig)
