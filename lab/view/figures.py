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

Every other chart of the lab goes through `chart()`, which does the same for a figure without
clicks: the house style written into the figure instead of a template, data as plain lists, and a
`datarevision` named after the figure's content. Under `theme="streamlit"` each chart was drawn
twice when it mounted, the Density page's 140,000-point layer map included (seen in headless
chromium: Plotly made a new calcdata twice per chart).
"""

from __future__ import annotations

import base64
import hashlib

import numpy as np
import orjson
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
        frozen["data"] = [_plain(spec) for spec in frozen["data"]]
        frozen["layout"] = _plain(frozen["layout"])
        if frozen.get("frames"):
            frozen["frames"] = [_plain(frame) for frame in frozen["frames"]]
        else:
            frozen.pop("frames", None)
        if frozen["layout"].get("template", {}) is None:  # no template, rather than a null one
            del frozen["layout"]["template"]
        self._frozen = frozen
        return self

    def to_dict(self) -> dict:
        frozen = getattr(self, "_frozen", None)
        if frozen is None:
            return super().to_dict()
        out = {"data": [dict(t) for t in frozen["data"]], "layout": dict(frozen["layout"])}
        if "frames" in frozen:
            out["frames"] = [dict(f) for f in frozen["frames"]]
        return out


def _plain(value):
    """`value` with plotly.py's typed arrays (`{"dtype", "bdata"[, "shape"]}`, its form for numpy data)
    as plain (nested) lists, at any depth; lists of numbers are returned as they are."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if "shape" in value:
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            return array.tolist()
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict | list):
        return [_plain(v) for v in value]
    return value


FADED, RULE = "rgba(49, 51, 63, 0.6)", "rgba(49, 51, 63, 0.1)"  # Streamlit's faded text and light rule
AXIS = dict(gridcolor=RULE, zerolinecolor=RULE, tickcolor=RULE, automargin=True,
            tickfont=dict(color=FADED, size=12), title=dict(font=dict(color=FADED, size=14)))  # fmt: skip
HOUSE = dict(  # what Streamlit's own chart theme sets (1.67, light), written into the figure
    font=dict(family=FONT, color=FADED, size=12), plot_bgcolor="white", paper_bgcolor="white",
    colorway=list(PALETTE), margin=dict(pad=6),
    title=dict(font=dict(family=FONT, size=16, color="#31333f", weight=600), x=0, xanchor="left"),
    legend=dict(font=dict(size=12, color="#31333f"), valign="top", title=dict(side="top")),
    hoverlabel=dict(bgcolor="white", bordercolor=RULE, font=dict(family=FONT, color="#31333f", size=12)),
    xaxis=dict(AXIS, showgrid=False, zeroline=False), yaxis=AXIS,
)  # fmt: skip


def chart(fig: go.Figure) -> SentFigure:
    """`fig` in the house style (Streamlit's chart theme, the figure's own settings winning), frozen,
    with no template and a `datarevision` named after its content: show it with
    `st.plotly_chart(..., theme=None)` and Plotly draws it once (see the module's docstring). Animation
    frames, if any, go with it."""
    layout = go.Layout(HOUSE)
    own = fig.layout.to_plotly_json()
    own.pop("template", None)
    layout.update(own)
    out = SentFigure(data=fig.data, layout=layout, frames=fig.frames)
    out.layout.template = None
    out.freeze()
    text = orjson.dumps(out._frozen, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    digest = hashlib.sha1(text).hexdigest()[:16]
    out.layout.datarevision = out._frozen["layout"]["datarevision"] = digest
    return out


def gl_pixel_ratio(device_pixel_ratio: float | None) -> float:
    """Plotly's `plotGlPixelRatio` for a screen: its own pixel ratio, between 1 and 2, or Plotly's
    default of 2 while the browser has not said it yet.

    Plotly draws WebGL at twice the CSS resolution by default, on any screen. On a screen of ratio 1
    that is four times the pixels for nothing the eye sees; in software WebGL it made a map click's
    selection frame 85-133 ms instead of 54-102 ms on a bare plotly page (70,000 points, 10 traces,
    six clicks each, two runs); in `bench-browser` a click right after the map appeared took
    0.231-0.317 s at 2 and 0.187-0.248 s at 1 (three runs each), and 0.180-0.259 s in eleven runs
    of the final code. A high-density screen keeps its detail."""
    if device_pixel_ratio is None or not np.isfinite(device_pixel_ratio) or device_pixel_ratio <= 0:
        return 2.0
    return float(min(max(device_pixel_ratio, 1.0), 2.0))


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


def with_marks(fig: SentFigure, xy: np.ndarray, row: int, neighbours=()) -> SentFigure:
    """A map figure with the selected image and its neighbours marked, as layout shapes and an
    annotation (SVG over the WebGL points): the data and their `datarevision` stay the same, so Plotly
    redraws the marks, not the 70,000 points, and a click costs what it did. The copy shares the
    figure's frozen data; only its layout is new. xy: [N, 2] the map; neighbours: [k] rows."""
    xy = np.asarray(xy, dtype=np.float64)

    def ring(i: int, pixels: float, colour: str, width: float) -> dict:  # round at any zoom: sized in pixels
        x, y = float(xy[i, 0]), float(xy[i, 1])
        return dict(type="circle", xref="x", yref="y", xsizemode="pixel", ysizemode="pixel", xanchor=x, yanchor=y,
                    x0=-pixels, x1=pixels, y0=-pixels, y1=pixels, line=dict(color=colour, width=width), layer="above")  # fmt: skip

    frozen = fig._frozen
    layout = dict(frozen["layout"])
    layout["shapes"] = [ring(int(j), 5, "rgba(0, 0, 0, 0.55)", 1.2) for j in neighbours]
    layout["shapes"].append(ring(row, 10, "black", 2.5))
    layout["annotations"] = [dict(x=float(xy[row, 0]), y=float(xy[row, 1]), xref="x", yref="y", text="selected",
                                  showarrow=True, arrowhead=2, ax=28, ay=-28, font=dict(size=12, color="black"),
                                  bgcolor="rgba(255, 255, 255, 0.85)", bordercolor="black", borderwidth=1)]  # fmt: skip
    out = SentFigure(fig, _validate=False)
    out._frozen = {"data": frozen["data"], "layout": layout}
    return out


def live_loss_svg(losses, total_steps: int, width: int = 960, height: int = 190) -> str:
    """The loss curve while training runs, as a small static SVG (x: step 0 to total_steps, so the
    curve grows as training advances). Redrawing a plotly chart every 2 s cost the browser 0.12 of a
    core instead of 0.08 and slowed training in the app by about 8 % on 2 cores (one-off A/B of the
    Train page in headless chromium, 4 runs each); an SVG image costs what no chart costs. The finished
    run gets the interactive plotly chart (`loss_chart`)."""
    y = np.asarray(losses, dtype=float)
    y = y[np.isfinite(y)]
    left, right, top, bottom = 52, 10, 10, 22
    w, h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" font-family="sans-serif" font-size="11" fill="#555">',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="white" stroke="#ddd"/>']  # fmt: skip
    total = max(int(total_steps), len(y), 1)
    if len(y):
        steps = np.arange(len(y))
        if len(y) > 800:  # a few hundred vertices draw the same line
            keep = np.unique(np.r_[np.linspace(0, len(y) - 1, 800).astype(int), len(y) - 1])
            steps, y = steps[keep], y[keep]
        lo, hi = float(y.min()), float(y.max())
        span = hi - lo if hi > lo else 1.0
        xs = left + steps / max(total - 1, 1) * w
        ys = top + (hi - y) / span * h
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
        parts += [f'<polyline fill="none" stroke="#636efa" stroke-width="1.5" points="{points}"/>',
                  f'<text x="{left - 6}" y="{top + 9}" text-anchor="end">{hi:.3f}</text>',
                  f'<text x="{left - 6}" y="{top + h}" text-anchor="end">{lo:.3f}</text>',
                  f'<text x="{left - 6}" y="{top + h / 2 + 4}" text-anchor="end">loss</text>']  # fmt: skip
    parts += [f'<text x="{left}" y="{height - 6}">step 0</text>',
              f'<text x="{left + w}" y="{height - 6}" text-anchor="end">step {total:,}</text>', "</svg>"]  # fmt: skip
    return "".join(parts)
