"""lab.papers.sag2025.reproduce and claims: every verdict follows the numbers by its rule, and the command
writes a well-formed report on digits."""

from __future__ import annotations

import json

import pytest
from report_checks import checked_report

from lab.papers.sag2025 import claims, reproduce
from lab.papers.sag2025.constants import CITE


def one(knn=0.80, linear=0.80, spearman=0.5, cophenetic=0.5, walk=None) -> dict:
    m1 = {"spearman": spearman, "kendall": spearman, "auc": 0.7, "cophenetic": cophenetic}
    return {"knn_acc": knn, "linear_acc": linear, "m1": m1, "m2": {"spearman": 0.4}, "n_classes": 10,
            "walk_precision": walk, "walk_precision_last": walk}  # fmt: skip


def verdicts(vic: dict, sag: dict) -> list[str]:
    return [c["verdict"] for c in claims.judge_claims({"vicreg": vic, "sag-vicreg": sag, "pixels": one()})]


def test_the_papers_pattern_gives_reproduced_everywhere():
    assert verdicts(one(), one(knn=0.83, spearman=0.6, cophenetic=0.6, walk=0.7)) == ["reproduced"] * 3


def test_each_verdict_moves_with_its_numbers():
    base = one()
    assert verdicts(base, one(knn=0.805, walk=0.7))[0] == "partly"
    assert verdicts(base, one(knn=0.79, walk=0.7))[0] == "not at this scale"
    assert verdicts(base, one(spearman=0.45, cophenetic=0.52, walk=0.7))[1] == "partly"
    assert verdicts(base, one(spearman=0.4, cophenetic=0.4, walk=0.7))[1] == "not at this scale"
    assert verdicts(base, one(walk=0.2))[2] == "partly"
    assert verdicts(base, one(walk=0.1))[2] == "not at this scale"


def test_a_dataset_without_a_tree_is_not_judged_on_m1():
    vic, sag = one(), one(walk=0.7)
    vic["m1"] = sag["m1"] = None
    claim = claims.judge_claims({"vicreg": vic, "sag-vicreg": sag, "pixels": one()})[1]
    assert claim["verdict"] == "not at this scale" and "no superclass tree" in claim["measured"]


def test_both_runs_share_every_setting_but_the_method():
    cfgs = reproduce.reproduce_configs("fashion-mnist", quick=True)
    a, b = (c.to_dict() for c in cfgs.values())
    assert {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} >= {"method"}
    assert a["batch_size"] == b["batch_size"] == 512 and a["subset"] == 10_000


@pytest.mark.slow
@pytest.mark.trains
def test_reproduce_on_digits_writes_a_well_formed_report(tmp_path):
    md = reproduce.main(quick=True, runs_dir=tmp_path / "runs", datasets=("digits",), out_dir=tmp_path / "docs",
                        log=lambda s: None)  # fmt: skip
    text, section = checked_report(md, CITE, "python -m lab reproduce sag2025 --quick --dataset digits")
    assert set(section["measures"]) == {"vicreg", "sag-vicreg", "pixels"}
    assert [c["verdict"] for c in section["claims"]] == [
        c["verdict"] for c in claims.judge_claims(section["measures"])
    ]
    again = reproduce.main(quick=True, runs_dir=tmp_path / "runs", datasets=("digits",), out_dir=tmp_path / "docs",
                           log=lambda s: None)  # fmt: skip
    assert json.loads(again.with_suffix(".json").read_text())["datasets"][0]["runs"]["vicreg"]["reused"]
