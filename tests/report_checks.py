"""What every per-dataset reproduction report must show (lab.papers.reports.reproduce_per_dataset), checked
once for the papers' digits tests."""

from __future__ import annotations

import json
from pathlib import Path

from lab.papers.reports import VERDICTS

FRAME = ("**Date:**", "**Machine:**", "**Scale:**", "### Claims", "### Measurements", "pixels (PCA-64)")


def checked_report(md: Path, cite: str, command: str) -> tuple[str, dict]:
    """The report's Markdown and its one dataset section, after checking the frame: the paper, the
    command that reruns it, the provenance lines, both tables, and each claim's verdict as a bold cell."""
    text, data = md.read_text(), json.loads(md.with_suffix(".json").read_text())
    assert cite in text and f"`{command}`" in text
    for fact in FRAME:
        assert fact in text, fact
    (section,) = data["datasets"]
    for c in section["claims"]:
        assert c["verdict"] in VERDICTS and f"| **{c['verdict']}** |" in text, c
    return text, section
