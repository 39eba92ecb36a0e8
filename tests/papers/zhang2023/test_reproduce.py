"""Tests for lab.papers.zhang2023.reproduce: the command writes a well-formed report on digits, and every verdict
follows the numbers (never a fixed string)."""

from __future__ import annotations

import copy
import json

import pytest
from report_checks import checked_report

from lab.papers import reports
from lab.papers.zhang2023 import claims, reproduce
from lab.papers.zhang2023.constants import CITE, KEY, REPORT_TAUS


def fake_measures(chs_sup=300.0, chs_sim=30.0, rld_sup=0.80, rld_sim=0.78, purity_sim=(0.9, 0.6),
                  purity_sup=(0.99, 0.97), gcn=(0.80, 0.90), linear=(0.70, 0.85)) -> dict:  # fmt: skip
    """measures of judge_claims with chosen numbers; probes at budgets 0.1 and 1.0 (narrow CIs)."""

    def one(chs, rld, purity, probe_acc):
        rows = []
        for probe, accs in probe_acc.items():
            for b, a in zip((0.1, 1.0), accs, strict=True):
                rows.append(
                    {"probe": probe, "budget": b, "accuracy": a, "ci_low": a - 0.01, "ci_high": a + 0.01}
                )
        return {"chs": chs, "rld": {f"{t:g}": {"mean": rld, "std": 0.0} for t in REPORT_TAUS},
                "purity": {"1": purity[0], "10": purity[0], "100": purity[1], "500": purity[1], "1000": purity[1]},
                "smallest_class": 6000, "probes": rows}  # fmt: skip

    return {
        "supervised": one(chs_sup, rld_sup, purity_sup, {"linear": (0.9, 0.9), "gcn-labels": (0.9, 0.9)}),
        "simclr": one(chs_sim, rld_sim, purity_sim, {"linear": linear, "gcn-labels": gcn}),
    }


PAIRS = {
    "top1_simclr": 0.998,
    "top1_supervised": -0.05,
    "mean_simclr": 0.99,
    "mean_supervised": 0.2,
    "n_pairs": 100,
}


def verdicts(measures, pairs=PAIRS) -> list[str]:
    return [c["verdict"] for c in claims.judge_claims(measures, pairs)]


def test_the_papers_pattern_gives_reproduced_everywhere():
    assert verdicts(fake_measures()) == ["reproduced"] * 5


def test_each_verdict_moves_with_its_numbers():
    assert verdicts(fake_measures(chs_sim=200.0))[0] == "partly"  # supervised only 1.5x higher
    assert verdicts(fake_measures(chs_sim=400.0))[0] == "not at this scale"
    assert verdicts(fake_measures(rld_sim=0.5))[1] == "partly"  # keeps 62 % of RLD, 10 % of CHS
    assert verdicts(fake_measures(rld_sim=0.05))[1] == "not at this scale"
    assert verdicts(fake_measures(purity_sim=(0.9, 0.85), purity_sup=(0.99, 0.98)))[2] == "partly"
    assert verdicts(fake_measures(purity_sim=(0.9, 0.9)))[2] == "not at this scale"
    close = dict(PAIRS, mean_supervised=0.9)
    assert verdicts(fake_measures(), close)[3] == "partly"
    assert verdicts(fake_measures(), dict(PAIRS, mean_supervised=0.99))[3] == "not at this scale"


def test_the_gcn_claim_is_reported_whichever_way_it_falls():
    assert (
        verdicts(fake_measures(gcn=(0.80, 0.86), linear=(0.70, 0.864)))[4] == "partly"
    )  # the authors' own run
    assert verdicts(fake_measures(gcn=(0.60, 0.857), linear=(0.70, 0.864)))[4] == "not at this scale"
    measures = fake_measures()
    for row in measures["simclr"]["probes"]:
        row["accuracy"] = None  # no budget had enough labels
    claim = claims.judge_claims(measures, PAIRS)[4]
    assert claim["verdict"] == "not at this scale" and "no budget" in claim["measured"]


def test_purity_is_judged_where_a_class_can_fill_the_neighbourhood():
    measures = fake_measures()
    assert claims.purity_p_max(measures) == 1000
    small = copy.deepcopy(measures)
    for m in small.values():
        m["smallest_class"] = 144
    assert claims.purity_p_max(small) == 10


@pytest.mark.slow
@pytest.mark.trains
def test_reproduce_on_digits_writes_a_well_formed_report(tmp_path):
    md_path = reproduce.main(quick=True, runs_dir=tmp_path / "runs", datasets=("digits",),
                             out_dir=tmp_path / "docs", log=lambda s: None)  # fmt: skip
    assert md_path == tmp_path / "docs" / "zhang2023.md"
    command = "python -m lab reproduce zhang2023 --quick --dataset digits"
    text, section = checked_report(md_path, CITE, command)
    assert "arXiv 2305.10229" in text
    assert section["dataset"] == "digits" and set(section["measures"]) == {"supervised", "simclr", "pixels"}
    claims = section["claims"]
    assert len(claims) == 5
    assert [c["verdict"] for c in claims] == verdicts(
        section["measures"], section["pairs"]
    )  # computed, not typed
    for tau in ("1", "0.2", "0.1"):
        assert f"RLD, τ = {tau}" in text
    for p in (1, 10, 100, 1000):
        assert f"purity, p = {p}" in text
    assert reports.load_report(KEY, tmp_path / "docs")[1]["command"] == command
    # A second call reuses the stored runs and analyses.
    again = reproduce.main(quick=True, runs_dir=tmp_path / "runs", datasets=("digits",),
                           out_dir=tmp_path / "docs", log=lambda s: None)  # fmt: skip
    redo = json.loads(again.with_suffix(".json").read_text())["datasets"][0]
    assert redo["runs"] == section["runs"] and redo["claims"] == claims


def test_the_gcn_must_beat_the_runs_own_linear_score_with_all_labels():
    measures = fake_measures(gcn=(0.80, 0.86), linear=(0.70, 0.80))
    assert verdicts(measures)[4] == "reproduced"
    measures["simclr"]["stored_linear"] = 0.87  # the standardised probe stored with the run
    claim = claims.judge_claims(measures, PAIRS)[4]
    assert claim["verdict"] == "partly" and "0.870" in claim["measured"]
