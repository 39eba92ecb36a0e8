"""AppTest for the paper-claims page: one card per paper, measured numbers and verdicts read from the stored
reports (never computed), "not yet measured" for a paper without a report, stale reports marked."""

from __future__ import annotations

import json
import time

import pytest
from app_helpers import page, texts

REPORT = {"date": "2026-12-01 10:00 UTC", "command": "python -m lab reproduce tilting2025 --quick", "quick": True,
          "code_version": "unknown", "scale": "Gaussian simulations: 1,500 Adam steps",
          "claims": [{"claim": "The two-sided conditional loss never exceeds the joint loss.",
                      "measured": "held for 100 of 100", "verdict": "reproduced"},
                     {"claim": "Cross-entropy (label|image) gives the sharpest label probabilities.", "measured": "0.83 vs 0.81",
                      "verdict": "partly"}]}  # fmt: skip


@pytest.fixture()
def reports(tmp_path, monkeypatch):
    from lab.papers import reports

    folder = tmp_path / "docs"
    folder.mkdir()
    monkeypatch.setattr(reports, "DEFAULT_OUT", folder)
    return folder


def test_a_paper_without_a_stored_report_shows_not_yet_measured(empty_env, reports):
    at = page("claims")
    assert not at.exception, at.exception
    text = texts(at)
    assert "0 of 5 papers measured" in text
    for title in ("How does Contrastive Learning Organize Images?", "A Mathematical Perspective On Contrastive Learning",
                  "Which Features are Learnt by Contrastive Learning?", "Semantic Positive Pairs",
                  "Enhancing VICReg"):  # fmt: skip
        assert title in text
    assert text.count("not yet measured") >= 5 and "python -m lab reproduce xue2023" in text


def test_a_stored_report_gives_its_numbers_verdicts_and_provenance(empty_env, reports):
    (reports / "tilting2025.json").write_text(json.dumps(REPORT))
    (reports / "tilting2025.md").write_text("# Reproduction\n")
    start = time.perf_counter()
    at = page("claims")
    seconds = time.perf_counter() - start
    assert not at.exception, at.exception
    text = texts(at)
    assert "1 of 5 papers measured" in text
    assert "held for 100 of 100" in text and "reproduced" in text and "partly" in text
    assert "Cross-entropy (label\\|image) gives" in text  # a "|" stays inside its table cell
    assert "Measured 2026-12-01 10:00 UTC" in text and "staleness unknown" in text and "a --quick run" in text
    assert "python -m lab reproduce tilting2025 --quick" in text
    assert (
        "See it: [Tilting: theory](/tilting2025_theory)" in text
    )  # outside app.py's navigation: a plain link
    assert seconds < 10  # AppTest's own start-up included; `python -m lab bench-paper tilting2025` times it
