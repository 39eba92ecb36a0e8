"""lab.papers.reports: a stored report's Markdown can be rewritten from its JSON alone, and a missing
report says which command writes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lab.papers.reports import DEFAULT_OUT, render_again
from lab.papers.xue2023.report import render_markdown


def test_the_markdown_is_rewritten_from_the_stored_numbers(tmp_path):
    shutil.copy(DEFAULT_OUT / "xue2023.json", tmp_path / "xue2023.json")
    (tmp_path / "xue2023.md").write_text("an older rendering\n")
    md = render_again("xue2023", tmp_path)
    expected = render_markdown(json.loads((tmp_path / "xue2023.json").read_text()))
    assert md == tmp_path / "xue2023.md" and md.read_text() == expected and "an older" not in expected


def test_a_missing_report_names_the_command_that_writes_it(tmp_path):
    with pytest.raises(ValueError, match=r"run `python -m lab reproduce sag2025` first"):
        render_again("sag2025", tmp_path)
    assert not Path(tmp_path / "sag2025.md").exists()
