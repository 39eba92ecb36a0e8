"""The map's plotly figure, built so that a browser draws it once and a click re-sends it cheaply.

A map click reruns the part of the Map page that holds the chart, and Streamlit sends the whole
figure again each time. Two costs follow from how `st.plotly_chart` works (Streamlit 1.67):

- Its chart, once mounted in the browser, re-applies the theme to a JSON copy of the figure and hands
  that copy to Plotly, which compares it with what it drew. Typed arrays (plotly.py's default for
  numpy data) come back as new objects, a theme template as a new object, and Streamlit's own
  `clickmode`/`dragmode` as changes; any of them makes Plotly draw all 70,000 points again, which
  takes 0.1-0.2 s in software WebGL, and a click in that time waits. So the data here are plain
  lists under a fixed `datarevision`, there is no template (pass `theme=None` to `st.plotly_chart`;
  the style is set here), and the modes Streamlit would set are set here. The copy then compares
  equal and Plotly does not draw again.
- Streamlit calls the figure's `to_dict()` on every rerun, which deep-copies every list (40 ms for
  70,000 points). `SentFigure.freeze()` makes that copy once.

`python -m lab bench-app` times the re-send against a plain figure with typed arrays.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
FONT = '"Source Sans", "Source Sans Pro", sans-serif'  # Streamlit's


class SentFigure(go.Figure):
    """A figure that no longer changes once built: `freeze()` makes its dict form once, numpy
    arrays as lists (plotly validates numpy arrays far faster than lists, so build with numpy).

    Later `to_dict()` calls hand out that copy, with fresh top-level dicts so that a caller's changes
    to them do not reach the figure. Change nothing after `freeze()`: `to_dict()` would not see it."""

    def freeze(self) -> SentFigure:
        """Make the dict form now, with numpy data as plain lists (see the module's docstring)."""
        frozen = super().to_dict()
        for spec, trace in zip(frozen["data"], self.data, strict=True):
            for key, value in spec.items():
                if isinstance(value, dict) and "bdata" in value:  # plotly.py's typed-array form
                    spec[key] = np.asarray(trace[key]).tolist()
        if frozen["layout"].get("template", {}) is None:  # no template, rather than a null one
            del frozen["layout"]["template"]
        self._frozen = frozen
        return self

    def to_dict(self) -> dict:
        frozen = getattr(self, "_frozen", None)
        if frozen is None:
            return super().to_dict()
        return {"data": [dict(t) for t in frozen["data"]], "layout": dict(frozen["layout"])}


def hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def map_figure(xy: np.ndarray, labels: np.ndarray, names, title: str, revision: str) -> SentFigure:
    """WebGL scatter of a 2-D map, one trace per class with its legend entry; each point carries its
    row in `customdata` and shows class and row on hover. `revision` names this map's data (run and
    space): Plotly keeps the user's zoom while it stays the same and redraws the data when it changes.
    Coordinates are rounded to 3 decimals (a map spans tens of units over a few hundred pixels)."""
    xy = np.round(np.asarray(xy, dtype=np.float64), 3)
    labels = np.asarray(labels)
    size = 2 if len(xy) > 20_000 else 6
    fig = SentFigure()
    for c, name in enumerate(names):
        rows = np.flatnonzero(labels == c)
        if len(rows) == 0:
            continue
        fig.add_trace(go.Scattergl(
            x=xy[rows, 0], y=xy[rows, 1], mode="markers", name=name, customdata=rows,
            marker=dict(size=size, color=PALETTE[c % len(PALETTE)], opacity=0.75),
            selected=dict(marker=dict(size=14, color="black", opacity=1)),
            unselected=dict(marker=dict(opacity=0.3)),
            hovertemplate=f"<b>{name}</b><br>image row %{{customdata}}<extra></extra>",
        ))  # fmt: skip
    fig.update_layout(
        height=620, margin=dict(l=10, r=10, t=30, b=10), uirevision=revision, datarevision=revision,
        legend=dict(title="class", itemsizing="constant"), plot_bgcolor="white", paper_bgcolor="white",
        xaxis=dict(visible=False), yaxis=dict(visible=False),
        clickmode="event+select", hovermode="closest", dragmode="pan",  # what st.plotly_chart would set
        font=dict(family=FONT, color="#31333f", size=13), hoverlabel=dict(font=dict(family=FONT)),
        title=dict(text=title, font=dict(size=14), x=0.01, xanchor="left"),
    )  # fmt: skip
    fig.layout.template = None
    return fig.freeze()


def with_highlight(fig: SentFigure, xy: np.ndarray, row: int) -> SentFigure:
    """A copy of a map figure with a star on `row`, under a new `datarevision` so that Plotly draws
    the star where it moved. The copy skips plotly's validation of data it validated already."""
    out = SentFigure(fig, _validate=False)
    out.add_trace(go.Scattergl(x=[float(xy[row, 0])], y=[float(xy[row, 1])], mode="markers", name="selected",
                               marker=dict(size=20, symbol="star", color="black", line=dict(width=2, color="white")),
                               hoverinfo="skip", showlegend=False))  # fmt: skip
    out.layout.datarevision = f"{fig.layout.datarevision}-{row}"
    out.layout.template = None
    return out.freeze()
