"""pages.ui.state: a map click arrives as plotly customdata holding the row."""

from __future__ import annotations


def test_a_click_arrives_as_customdata_with_the_row():
    from pages.ui.state import row_from_selection

    assert row_from_selection({"selection": {"points": [{"customdata": {"0": 42}}]}}) == 42
    assert row_from_selection({"selection": {"points": [{"customdata": [7]}]}}) == 7
    assert row_from_selection({"selection": {"points": []}}) is None
    assert row_from_selection(None) is None


def test_a_run_below_the_pixels_on_knn_says_so_in_one_sentence():
    from pages.ui.cards import pixel_verdict

    below = {"knn_acc": 0.842, "linear_acc": 0.846, "pixels": {"knn_acc": 0.862, "linear_acc": 0.830}}
    said = pixel_verdict(below)
    assert "below the raw pixels" in said and "84.2% against 86.2%" in said
    assert "linear probe does beat them (84.6% against 83.0%)" in said
    assert pixel_verdict({**below, "knn_acc": 0.87}) is None
    assert pixel_verdict({"knn_acc": None, "pixels": {"knn_acc": 0.8}}) is None
    assert "linear probe" not in pixel_verdict({**below, "linear_acc": 0.82})
