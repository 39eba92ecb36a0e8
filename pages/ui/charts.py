"""Charts on a page: the WebGL pixel-ratio probe, plotly configs, the loss curve and the run's map.

Every figure comes from lab.view.figures, built so that plotly draws it once (see there).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lab.view import figures
from pages.ui.state import class_names, load_run, run_map

PALETTE = figures.PALETTE
SPACE_LABELS = {"backbone": "Backbone features h", "projector": "Projector embeddings z"}
# Reports the browser's device pixel ratio; the sidebar mounts it until it has, once per session
# (mounted again on another page, it would report again and rerun that page). WebGL charts are drawn
# at that ratio (`plotly_config`).
SCREEN = st.components.v2.component(
    "lab_screen",
    js="export default function ({ setStateValue }) { setStateValue('dpr', window.devicePixelRatio || 1); }",
)


def screen_probe() -> None:
    """Mounts SCREEN at the end of the sidebar until the browser has reported its pixel ratio. Call
    it after the page has run: a report that arrives while a first run is still going interrupts it,
    and Streamlit (1.67) then showed the Train page's number inputs (seeded through session state
    then) at their minimum (0.10 epochs, batch 2) while the page computed with its own values; the
    browser test checks the form."""
    if "lab_dpr" not in st.session_state:
        with st.sidebar:
            SCREEN(key="lab_screen", on_dpr_change=_keep_dpr, height=0)


def _keep_dpr() -> None:
    st.session_state["lab_dpr"] = (st.session_state.get("lab_screen") or {}).get("dpr")


def plotly_config(**extra) -> dict:
    """st.plotly_chart's config for a WebGL chart: drawn at the screen's pixel ratio
    (`lab.view.figures.gl_pixel_ratio`), no plotly logo."""
    dpr = st.session_state.get("lab_dpr")
    return {"displaylogo": False, **extra, "plotGlPixelRatio": figures.gl_pixel_ratio(dpr)}


# ---------------------------------------------------------------- loss curve
def loss_chart(losses, height: int = 220) -> None:
    """The training loss per step, drawn with plotly like every other figure of the lab (so the
    plotly library is already loaded in the browser when the user opens a map)."""
    fig = go.Figure(go.Scatter(y=np.asarray(losses, dtype=float), mode="lines", line=dict(width=1.5),
                               hovertemplate="step %{x}<br>loss %{y:.4f}<extra></extra>"))  # fmt: skip
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="step",
                      yaxis_title="training loss")  # fmt: skip
    st.plotly_chart(figures.chart(fig), config={"displaylogo": False, "displayModeBar": False}, theme=None)


# ---------------------------------------------------------------- map figure
@st.cache_resource(show_spinner="Drawing the map...", max_entries=8)
def map_figure(root: str, rid: str, space: str) -> go.Figure:
    """The run's map (`lab.view.figures.map_figure`), built once per (run, space) and never mutated.
    Show it with `theme=None`: the figure carries its style (see `lab.view.figures`)."""
    run = load_run(root, rid)
    xy = run_map(root, rid, space)
    title = f"UMAP of {SPACE_LABELS[space].lower()} · {len(xy):,} images"
    return figures.map_figure(xy, run.labels, class_names(run.config.dataset), title, f"{rid}-{space}")


@st.cache_resource(show_spinner=False, max_entries=16)
def with_marks(root: str, rid: str, space: str, row: int, neighbours: tuple[int, ...]) -> go.Figure:
    """The run's map with the selected image and its neighbours ringed (layout shapes only: Plotly
    redraws the marks, not the points; lab.view.figures.with_marks)."""
    return figures.with_marks(map_figure(root, rid, space), run_map(root, rid, space), row, neighbours)


@st.cache_resource(show_spinner=False, max_entries=16)
def with_highlight(root: str, rid: str, space: str, row: int | None) -> go.Figure:
    """The run's map with a star on `row` (about 10 ms for 70,000 points, once per row)."""
    fig = map_figure(root, rid, space)
    return fig if row is None else figures.with_highlight(fig, run_map(root, rid, space), row)


@st.cache_resource(show_spinner=False, max_entries=8)
def shared(root: str, left: str, right: str):
    """The images two runs both embedded (lab.store.neighbours.shared_rows), in the left run's order."""
    from lab.store.neighbours import shared_rows

    return shared_rows(load_run(root, left), load_run(root, right))


@st.cache_resource(show_spinner="Drawing the map...", max_entries=8)
def shared_map_figure(root: str, left: str, right: str, space: str, side: str) -> go.Figure:
    """The map of the left (side "a") or right ("b") run drawn with only the images both runs embedded;
    each point carries its position in the shared list, the same in both maps."""
    rid = left if side == "a" else right
    run, rows = load_run(root, rid), shared(root, left, right)
    own = rows.a if side == "a" else rows.b
    xy = run_map(root, rid, space)[own]
    title = f"UMAP of {SPACE_LABELS[space].lower()} · {len(xy):,} images"
    return figures.map_figure(
        xy, run.labels[own], class_names(run.config.dataset), title, f"{left}-{right}-{space}-{side}"
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def shared_with_highlight(
    root: str, left: str, right: str, space: str, side: str, pos: int | None
) -> go.Figure:
    """shared_map_figure with a star on the shared image at `pos`."""
    fig = shared_map_figure(root, left, right, space, side)
    if pos is None:
        return fig
    rows = shared(root, left, right)
    xy = run_map(root, left if side == "a" else right, space)[rows.a if side == "a" else rows.b]
    return figures.with_highlight(fig, xy, pos)
