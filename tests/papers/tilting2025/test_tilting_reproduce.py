"""lab.papers.tilting2025.claims and .reproduce: every verdict follows the numbers by its stated rule (never
a fixed string), and the command writes a well-formed report (tiny scale, digits)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest

from lab.papers.claims_index import BY_KEY
from lab.papers.reports import VERDICTS
from lab.papers.tilting2025 import claims, reproduce
from lab.papers.tilting2025.constants import KEY


def _run(a, marginal, slope, var):
    return {"example": {"trained": {"a": a, "slope": slope, "var": var}}, "marginal_u": marginal}


def _image(ess_two, ess_ce, sharp_ce=0.9):
    def m(p, ess, distinct):
        return {"max_probability": p, "entropy": 1 - p, "accuracy": 0.8, "ess": ess, "top_weight": 1 / ess,
                "distinct": distinct, "on_label": 0.8}  # fmt: skip

    return {"config": {"draws": 16, "pool": 10_000},
            "losses": {"label|image": m(sharp_ce, ess_ce, 10), "image|label": m(0.7, 900, 16), "two-sided": m(0.8, ess_two, 16)}}  # fmt: skip


def fake_report() -> dict:
    """A report whose numbers follow the paper everywhere."""
    n_e = [{"loss": "two-sided", "value": n, "rank": min(n, 3), "mean u|v": e, "closed-form mean u|v": e, "angle": 1.0}
           for n, e in ((1, 0.4), (2, 0.15), (3, 0.001), (4, 0.002))]  # fmt: skip
    bias = [
        {"value": n, "bias": [b, b], "mean": b, "sd": 0.001}
        for n, b in ((128, 0.017), (512, 0.006), (1024, 0.003))
    ]
    return {
        "example": {"two-sided/bilinear": _run(4 / 9, 2.7, 2 / 3, 1.5), "joint/bilinear": _run(1 / 3, 2.0, 0.5, 1.5),
                    "u|v/quadratic": _run(0.8, 1.0, 2 / 3, 5 / 6)},
        "sweeps": {"n_e": n_e, "batch_bias": bias},
        "identities": {"conditional_vs_joint": {"held": 100, "n_encoders": 100, "min_gap": 0.01, "mean_gap": 0.4},
                       "clip": [{"population": -0.2, "mean_difference": 0.002, "sd_difference": 0.007, "batches": 20, "n": 2048}]},
        "image_label": _image(1000.0, 100.0),
    }  # fmt: skip


def verdicts(report) -> list[str]:
    return [c["verdict"] for c in claims.judge_claims(report)]


def test_the_papers_pattern_gives_reproduced_everywhere_and_the_index_sentences():
    judged = claims.judge_claims(fake_report())
    assert [c["verdict"] for c in judged] == ["reproduced"] * 9
    assert [c["claim"] for c in judged] == [c.sentence for c in BY_KEY[KEY].claims]
    assert all(c["page"].startswith("pages/tilting2025_") for c in judged)


def test_each_verdict_moves_with_its_numbers():
    r = copy.deepcopy(fake_report())
    r["example"]["two-sided/bilinear"]["marginal_u"] = 2.7 * 1.03  # 3 % off
    r["example"]["joint/bilinear"]["example"]["trained"]["a"] = 0.4  # 20 % off
    r["example"]["u|v/quadratic"]["example"]["trained"]["var"] = 5 / 6 * 1.04
    r["sweeps"]["n_e"][2]["mean u|v"] = 0.04  # n_e = 3: 0.04 above the closed form, still ≤ 0.05
    r["sweeps"]["batch_bias"][1]["mean"] = -0.001
    r["identities"]["conditional_vs_joint"]["held"] = 99
    r["identities"]["clip"][0]["mean_difference"] = 0.03
    r["image_label"] = _image(
        200.0, 100.0, sharp_ce=0.75
    )  # two-sided only 2x; label|image sharp by entropy only
    r["image_label"]["losses"]["label|image"]["entropy"] = 0.05
    assert verdicts(r) == ["partly", "not at this scale", "partly", "partly", "partly", "not at this scale",
                           "partly", "partly", "partly"]  # fmt: skip
    r["image_label"] = _image(50.0, 100.0, sharp_ce=0.1)
    r["image_label"]["losses"]["label|image"]["entropy"] = 2.0
    assert verdicts(r)[7:] == ["not at this scale", "not at this scale"]


@pytest.mark.trains
def test_the_command_writes_a_report_with_a_verdict_per_claim(tmp_path):
    scale = replace(reproduce.QUICK, steps=40, losses=("two-sided",), n_e=(1, 3), batch=(64, 128),
                    sample_size=(256, None), clip_batches=2, image_epochs=1.0, bias_seeds=(0, 1))  # fmt: skip
    lines = []
    md = reproduce.main(runs_dir=tmp_path / "runs", datasets=("digits",), out_dir=tmp_path / "docs", log=lines.append,
                        scale=scale)  # fmt: skip
    data = json.loads(md.with_suffix(".json").read_text())
    assert data["command"] == "python -m lab reproduce tilting2025 --dataset digits"
    assert len(data["claims"]) == 9 and all(c["verdict"] in VERDICTS for c in data["claims"])
    assert data["code_version"] and data["scale"].startswith("Gaussian simulations: 40 Adam steps")
    text = md.read_text()
    assert text.startswith("# Reproduction: Baptista, Stuart & Tran 2025") and "| Claim | Expected |" in text
    assert any("Wrote" in line for line in lines)
    assert data["trained_now"] == len(list((tmp_path / "runs" / "_tilting2025").glob("sim-*.json"))) > 0
    again = reproduce.main(runs_dir=tmp_path / "runs", datasets=("digits",), out_dir=tmp_path / "docs", log=lines.append,
                           scale=scale)  # fmt: skip
    assert json.loads(again.with_suffix(".json").read_text())["trained_now"] == 0  # read from the cache
