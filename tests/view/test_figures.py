"""The map figure (lab.view.figures): what Plotly must find unchanged after Streamlit's chart re-themes
a JSON copy of it, rows that lead back to the right images, and a frozen dict form."""

import json

import numpy as np
import plotly.io as pio
import plotly.tools
import pytest

from lab.view import figures


def sent(fig) -> str:
    """What st.plotly_chart sends for a figure (streamlit/elements/plotly_chart.py)."""
    return pio.to_json(
        plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False
    )


@pytest.fixture()
def mapped():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(500, 2)).astype(np.float32) * 7
    labels = rng.integers(0, 4, 500)
    labels[labels == 2] = 3  # a class with no points gets no trace
    fig = figures.map_figure(xy, labels, ["a", "b", "c", "d"], "a map", "run1-backbone")
    return xy, labels, fig


def test_the_figure_sends_plain_lists_and_no_template(mapped):
    """Typed arrays and a template come back from the browser's JSON copy as new objects, which
    makes Plotly redraw the whole map: neither may be in what st.plotly_chart sends."""
    _, _, fig = mapped
    text = sent(fig)
    spec = json.loads(text)
    assert "bdata" not in text and "template" not in spec["layout"]
    for trace in spec["data"]:
        assert all(isinstance(trace[k], list) for k in ("x", "y", "customdata"))
    layout = spec["layout"]
    assert layout["datarevision"] == layout["uirevision"] == "run1-backbone"
    # what st.plotly_chart sets when a chart selects points, so that it changes nothing
    modes = (layout["clickmode"], layout["hovermode"], layout["dragmode"])
    assert modes == ("event+select", "closest", "pan")


def test_each_point_leads_back_to_its_row(mapped):
    xy, labels, fig = mapped
    spec = fig.to_dict()
    assert [t["name"] for t in spec["data"]] == ["a", "b", "d"]
    rows = np.concatenate([t["customdata"] for t in spec["data"]])
    assert sorted(rows.tolist()) == list(range(len(labels)))
    for c, trace in zip([0, 1, 3], spec["data"], strict=True):
        r = np.asarray(trace["customdata"])
        assert (labels[r] == c).all()
        np.testing.assert_allclose(trace["x"], xy[r, 0], atol=5e-4)  # rounded to 3 decimals
        np.testing.assert_allclose(trace["y"], xy[r, 1], atol=5e-4)


def test_a_frozen_figure_hands_out_one_copy_that_callers_cannot_change(mapped):
    _, _, fig = mapped
    first, second = fig.to_dict(), fig.to_dict()
    assert first["data"][0]["x"] is second["data"][0]["x"], "made once, not deep-copied per call"
    first["layout"]["title"] = "changed"
    first["data"][0]["name"] = "changed"
    third = fig.to_dict()
    assert third["layout"]["title"]["text"] == "a map" and third["data"][0]["name"] == "a"


def test_a_highlight_adds_a_star_under_its_own_revision(mapped):
    xy, _, fig = mapped
    star5, star9 = figures.with_highlight(fig, xy, 5), figures.with_highlight(fig, xy, 9)
    assert len(fig.data) == 3 and len(star5.data) == 4, "the map itself is unchanged"
    s5, s9 = star5.to_dict(), star9.to_dict()
    assert s5["data"][-1]["x"] == [pytest.approx(float(xy[5, 0]))]
    assert s5["data"][-1]["y"] == [pytest.approx(float(xy[5, 1]))]
    # Plotly ignores changed data under an unchanged datarevision: a moved star needs a new one
    revisions = {fig.layout.datarevision, s5["layout"]["datarevision"], s9["layout"]["datarevision"]}
    assert len(revisions) == 3
    text = sent(star5)
    assert "bdata" not in text and "template" not in json.loads(text)["layout"]


def test_hex_rgb():
    assert figures.hex_rgb("#1f77b4") == (31, 119, 180)


def test_a_frozen_map_exports_as_a_standalone_html_page(mapped):
    from lab.store import export

    page = export.figure_html(mapped[2]).decode()
    assert page.lstrip().lower().startswith("<!doctype html>") and "a map" in page and "scattergl" in page


def test_a_chart_sends_plain_lists_at_any_depth_and_no_template():
    """`figures.chart` (every chart but the map): typed arrays nested in markers and 2-D heatmaps
    become lists, and the house style replaces the template."""
    import plotly.graph_objects as go

    rng = np.random.default_rng(1)
    fig = go.Figure([
        go.Scattergl(x=rng.normal(size=50), y=rng.normal(size=50), marker=dict(color=rng.random(50))),
        go.Heatmap(z=np.arange(6.0).reshape(2, 3)),
    ])  # fmt: skip
    fig.update_layout(title="a chart")
    text = sent(figures.chart(fig))
    spec = json.loads(text)
    assert "bdata" not in text and "template" not in spec["layout"]
    assert spec["data"][1]["z"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    np.testing.assert_allclose(spec["data"][0]["marker"]["color"], fig.data[0].marker.color)
    layout = spec["layout"]
    assert layout["plot_bgcolor"] == "white" and layout["font"]["family"] == figures.FONT
    assert layout["title"] == {**layout["title"], "text": "a chart", "x": 0}


def test_a_charts_own_settings_win_over_the_house_style():
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(y=[1, 2]))
    fig.update_layout(
        title=dict(text="t", font=dict(size=11), x=0.5), yaxis=dict(title="loss", gridcolor="red")
    )
    layout = figures.chart(fig).to_dict()["layout"]
    assert layout["title"]["font"]["size"] == 11 and layout["title"]["x"] == 0.5
    assert layout["title"]["font"]["family"] == figures.FONT, "house settings fill in the rest"
    assert layout["yaxis"]["gridcolor"] == "red" and layout["yaxis"]["title"]["text"] == "loss"
    assert layout["xaxis"]["showgrid"] is False


def test_a_charts_datarevision_names_its_content():
    """Plotly skips comparing data under an unchanged datarevision, so changed data needs a new one,
    and the same chart built again must keep it (a rerun re-sends it)."""
    import plotly.graph_objects as go

    def build(ys):
        return figures.chart(go.Figure(go.Scatter(y=np.asarray(ys, dtype=float)))).layout.datarevision

    assert build([1, 2, 3]) == build([1, 2, 3])
    assert build([1, 2, 3]) != build([1, 2, 4])


def test_webgl_is_drawn_at_the_screens_pixel_ratio_between_1_and_2():
    assert figures.gl_pixel_ratio(None) == 2.0, "Plotly's default until the browser says"
    assert figures.gl_pixel_ratio(1) == 1.0
    assert figures.gl_pixel_ratio(1.5) == 1.5
    assert figures.gl_pixel_ratio(2) == 2.0 and figures.gl_pixel_ratio(3) == 2.0
    assert figures.gl_pixel_ratio(0.8) == 1.0
    assert figures.gl_pixel_ratio(float("nan")) == 2.0 and figures.gl_pixel_ratio(0) == 2.0


def test_marks_ring_the_selected_image_and_its_neighbours_without_touching_the_data(mapped):
    """A click marks the map with layout shapes and an annotation; the data and datarevision are the
    frozen figure's own, so Plotly redraws the marks and not the points."""
    xy, _, fig = mapped
    marked = figures.with_marks(fig, xy, 3, neighbours=[5, 7, 9])
    sent, base = marked.to_dict(), fig.to_dict()
    assert sent["data"] == base["data"] and sent["layout"]["datarevision"] == base["layout"]["datarevision"]
    assert all(a is b for a, b in zip(marked._frozen["data"], fig._frozen["data"], strict=True)), (
        "shared, not copied"
    )
    shapes = sent["layout"]["shapes"]
    assert len(shapes) == 4 and shapes[-1]["xanchor"] == float(xy[3, 0]) and shapes[-1]["x1"] == 10
    assert {s["xsizemode"] for s in shapes} == {"pixel"}  # round at any zoom
    assert sent["layout"]["annotations"][0]["text"] == "selected"
    assert "shapes" not in base["layout"], "the map itself is unchanged"
