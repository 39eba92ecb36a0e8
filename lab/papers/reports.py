"""Stored reproduction reports, one pair of files per paper in docs/reproduce/: <key>.md (what a person
reads) and <key>.json (the numbers, which the app reads; never typed in). Every paper's `reproduce`
command writes them with `save_report`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lab.store.atomic import save_json_atomically, save_text_atomically

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "reproduce"
VERDICTS = ("reproduced", "partly", "not at this scale")


def report_paths(key: str, out_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """(markdown, json) paths of a paper's stored report."""
    folder = Path(out_dir) if out_dir is not None else DEFAULT_OUT
    return folder / f"{key}.md", folder / f"{key}.json"


def load_report(key: str, out_dir: str | os.PathLike | None = None) -> tuple[str, dict] | None:
    """A paper's stored report (markdown text, json dict), or None when it has not been written."""
    md, js = report_paths(key, out_dir)
    try:
        return md.read_text(), json.loads(js.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def save_report(key: str, report: dict, markdown: str, out_dir: str | os.PathLike | None = None) -> Path:
    """Write both files atomically (the numbers first); returns the Markdown path."""
    md, js = report_paths(key, out_dir)
    save_json_atomically(js, report, indent=1)
    save_text_atomically(md, markdown)
    return md
