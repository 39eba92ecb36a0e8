"""pages.ui.state: a map click arrives as plotly customdata holding the row."""

from __future__ import annotations


def test_a_click_arrives_as_customdata_with_the_row():
    from pages.ui.state import row_from_selection

    assert row_from_selection({"selection": {"points": [{"customdata": {"0": 42}}]}}) == 42
    assert row_from_selection({"selection": {"points": [{"customdata": [7]}]}}) == 7
    assert row_from_selection({"selection": {"points": []}}) is None
    assert row_from_selection(None) is None
