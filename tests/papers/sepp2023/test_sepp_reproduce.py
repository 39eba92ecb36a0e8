"""lab.papers.sepp2023.reproduce and claims: every verdict follows the numbers by its rule, and the command
writes a well-formed report on digits (the SimCLR run it trains first is the learned sampler)."""

from __future__ import annotations

import pytest
from report_checks import checked_report

from lab.papers.sepp2023 import claims, reproduce
from lab.papers.sepp2023.constants import CITE


def fake(simclr=0.80, learned=0.83, pixels_mined=0.82, oracle=0.88, random=0.78, precision=0.8) -> dict:
    def run(knn, p=None):
        return {"knn_acc": knn, "linear_acc": knn, "pair_precision": p, "coverage": 1.0, "n_classes": 10}

    return {"simclr": run(simclr), "sepp-learned": run(learned, precision), "sepp-pixels": run(pixels_mined, 0.85),
            "sepp-oracle": run(oracle, 1.0), "sepp-random": run(random, 0.1), "pixels": run(0.86)}  # fmt: skip


def verdicts(**numbers) -> list[str]:
    return [c["verdict"] for c in claims.judge_claims(fake(**numbers))]


def test_the_papers_pattern_gives_reproduced_everywhere():
    assert verdicts() == ["reproduced"] * 3


def test_each_verdict_moves_with_its_numbers():
    assert verdicts(learned=0.805)[0] == "partly"
    assert verdicts(learned=0.79)[0] == "not at this scale"
    assert verdicts(learned=0.90)[1] == "partly"  # above the oracle
    assert verdicts(oracle=0.70)[1] == "not at this scale"
    assert verdicts(precision=0.2)[2] == "partly"
    assert verdicts(precision=0.1)[2] == "not at this scale"


def test_every_sepp_run_shares_the_simclr_runs_settings():
    cfgs = reproduce.reproduce_configs("fashion-mnist", quick=True)
    base = cfgs["simclr"].to_dict()
    for name, cfg in cfgs.items():
        d = cfg.to_dict()
        assert {k: d[k] for k in base if k != "method"} == {k: v for k, v in base.items() if k != "method"}, (
            name
        )
    from lab.papers.sepp2023.samplers import sampler_config

    assert sampler_config(cfgs["sepp-learned"]) == cfgs["simclr"]


@pytest.mark.slow
@pytest.mark.trains
def test_reproduce_on_digits_writes_a_well_formed_report(tmp_path):
    md = reproduce.main(quick=True, runs_dir=tmp_path / "runs", datasets=("digits",), out_dir=tmp_path / "docs",
                        log=lambda s: None)  # fmt: skip
    text, section = checked_report(md, CITE, "python -m lab reproduce sepp2023 --quick --dataset digits")
    ms = section["measures"]
    assert (
        ms["sepp-learned"]["sampler_run"] == ms["simclr"]["id"] and ms["sepp-oracle"]["pair_precision"] == 1.0
    )
    assert [c["verdict"] for c in section["claims"]] == [c["verdict"] for c in claims.judge_claims(ms)]
