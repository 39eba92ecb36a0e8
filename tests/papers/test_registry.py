"""lab.papers: the registry the app, the CLI and the worker read; a broken paper package is kept out
with its error instead of taking the lab down."""

from __future__ import annotations

import importlib
from pathlib import Path

import lab.papers
from lab.worker.kinds import job_kinds

REPO = Path(__file__).resolve().parents[2]


def test_each_paper_names_pages_that_exist_and_reproduces():
    assert "zhang2023" in lab.papers.PAPERS and not lab.papers.FAILED
    for paper in lab.papers.PAPERS.values():
        assert paper.cite and paper.summary
        for page in paper.pages:
            assert (REPO / page.path).is_file(), page.path
            # flat in pages/, named after its paper: found by its URL before app.py has run
            assert page.path == f"pages/{paper.key}_{page.url.split('_', 1)[1]}.py" and page.url.startswith(
                paper.key
            )
        assert callable(paper.reproduce)


def test_paper_job_kinds_are_in_the_workers_registry():
    kinds = job_kinds()
    for paper in lab.papers.PAPERS.values():
        assert {k.name for k in paper.job_kinds} <= set(kinds)
    assert {"train", "map", "scores", "table", "pairs", "warm-up"} <= set(kinds)


def test_a_paper_that_fails_to_import_is_reported_not_raised(monkeypatch, tmp_path):
    broken = tmp_path / "lab_broken_paper"
    (broken).mkdir()
    (broken / "__init__.py").write_text("raise RuntimeError('the paper is half written')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    real_import = importlib.import_module

    def fake_import(name, *a):
        return real_import("lab_broken_paper") if name == "lab.papers.broken" else real_import(name, *a)

    monkeypatch.setattr(lab.papers.importlib, "import_module", fake_import)
    monkeypatch.setattr(lab.papers, "PAPER_PACKAGES", (*lab.papers.PAPER_PACKAGES, "broken"))
    papers, failed = lab.papers._load()
    assert "zhang2023" in papers and "broken" not in papers
    assert failed["broken"].startswith("RuntimeError: the paper is half written")
