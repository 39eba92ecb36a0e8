"""The paper registry: every paper the lab reproduces is one package here, and this module is the
only one in lab/ that imports them. The app builds its "Analyses" navigation from `PAPERS`,
`python -m lab reproduce` its choices, and the worker adds each paper's job kinds.

A package that fails to import does not take the lab down: it is left out of `PAPERS` and its
error is kept in `FAILED` (the app shows it on a page of its own).
"""

from __future__ import annotations

import importlib
import traceback

from lab.papers.paper import Paper, PaperPage, RunColumn, RunScores

PAPER_PACKAGES = (
    "zhang2023",
    "xue2023",
    "tilting2025",
    "sag2025",
    "sepp2023",
)  # add a paper: its folder name here


def _load() -> tuple[dict[str, Paper], dict[str, str]]:
    papers, failed = {}, {}
    for name in PAPER_PACKAGES:
        try:
            papers[name] = importlib.import_module(f"lab.papers.{name}").PAPER
        except Exception as exc:  # a broken paper package: report it, keep the others
            failed[name] = f"{type(exc).__name__}: {exc}\n\n" + traceback.format_exc(limit=5)
    return papers, failed


PAPERS, FAILED = _load()


def get_paper(key: str) -> Paper:
    if key in FAILED:
        raise ValueError(f"Paper '{key}' failed to import: {FAILED[key].splitlines()[0]}")
    if key not in PAPERS:
        raise ValueError(f"Unknown paper '{key}'. Choose one of: {', '.join(PAPERS)}.")
    return PAPERS[key]


def paper_datasets():
    """The datasets every loaded paper adds (lab.core.data.all_datasets)."""
    return [d for paper in PAPERS.values() for d in paper.datasets]


def paper_methods():
    """The training methods every loaded paper adds (lab.core.methods.all_methods)."""
    return [m for paper in PAPERS.values() for m in paper.methods]


def paper_run_scores() -> list[RunScores]:
    """The numbers every loaded paper adds to the tables of runs (lab.sweep.report)."""
    return [scores for paper in PAPERS.values() for scores in paper.run_scores]


def paper_job_kinds():
    """The job kinds every loaded paper adds to the worker."""
    return [kind for paper in PAPERS.values() for kind in paper.job_kinds]


__all__ = [
    "FAILED",
    "PAPERS",
    "PAPER_PACKAGES",
    "Paper",
    "PaperPage",
    "RunColumn",
    "RunScores",
    "get_paper",
    "paper_datasets",
    "paper_job_kinds",
    "paper_methods",
    "paper_run_scores",
]
