"""Xue et al. 2023's claims C1-C5 judged by their stated rules (lab.papers.xue2023.claims): constructed
reports whose answer is known give reproduced / partly / not at this scale, each rule's margin is where
it says, and the linear toys (toy_claims.measure_toys) give numbers that pass the toys' rules."""

from __future__ import annotations

import pytest

from lab.papers.xue2023.claims import MARGIN, TOY_HIGH, TOY_LOW, judge_claims
from lab.papers.xue2023.toy_claims import measure_toys

IDS = ["C1", "C2", "C3", "C4", "C5"]


def curve(max_: float, final: float) -> dict:
    return {"steps": [1, 2, 3], "accuracy": [final, max_, final], "max": max_, "final": final,
            "collapse_drop": max_ - final}  # fmt: skip


def suppression(small: dict, large: dict) -> dict:
    """The suppression runs at p = 2 and p = 128: garment probe (class_h) by (method, q)."""
    return {f"{m}-q{q:g}-p{p}": {"method": m, "q": q, "p": p, "class_h": value}
            for p, values in ((2, small), (128, large)) for (m, q), value in values.items()}  # fmt: skip


def images(shown: bool) -> dict:
    """Image numbers that show every claim (shown=True) or none of them (shown=False)."""
    if shown:  # SupCon collapses and drops; a larger p and q = 1 raise the garment probe; joint fixes both
        collapse = {"supcon": {"fine_h": 0.70, "curve": curve(0.85, 0.70)},
                    "simclr": {"fine_h": 0.80, "curve": curve(0.81, 0.80)},
                    "joint": {"fine_h": 0.79, "curve": curve(0.80, 0.79)}}  # fmt: skip
        sup = suppression({("simclr", 0.0): 0.60, ("joint", 0.0): 0.70, ("simclr", 1.0): 0.65},
                          {("simclr", 0.0): 0.75, ("joint", 0.0): 0.80, ("simclr", 1.0): 0.85})  # fmt: skip
    else:  # SupCon no worse than SimCLR, no drop, p and q change nothing, joint no better than SupCon
        collapse = {"supcon": {"fine_h": 0.80, "curve": curve(0.80, 0.80)},
                    "simclr": {"fine_h": 0.80, "curve": curve(0.82, 0.80)},
                    "joint": {"fine_h": 0.80, "curve": curve(0.80, 0.80)}}  # fmt: skip
        sup = suppression({("simclr", 0.0): 0.75, ("joint", 0.0): 0.60, ("simclr", 1.0): 0.75},
                          {("simclr", 0.0): 0.75, ("joint", 0.0): 0.60, ("simclr", 1.0): 0.75})  # fmt: skip
    return {"collapse": collapse, "suppression": sup}


def toys(shown: bool) -> dict:
    hi, lo = (0.99, 0.50) if shown else (0.50, 0.99)  # not shown: nothing learned, nothing lost
    return {"cc": {"scl_final": lo, "ucl_final": hi, "scl_max": hi, "scl_max_step": 100, "joint_final": hi},
            "fs": {"k_e": 32, "n": 1000, "small_p": lo, "large_p": hi, "joint_small_p": hi},
            "fs_few": {"n": 64, "k_e": 128, "max_over_p": lo, "q1": hi}}  # fmt: skip


def verdicts(report: dict) -> list[str]:
    return [c["verdict"] for c in judge_claims(report)]


@pytest.mark.parametrize(
    "image_shown, toy_shown, expected",
    [
        (True, True, "reproduced"),
        (True, False, "partly"),
        (False, True, "partly"),
        (False, False, "not at this scale"),
        (True, None, "reproduced"),  # no toys in the report: the images alone decide
        (False, None, "not at this scale"),
    ],
)
def test_every_claim_gets_the_verdict_its_measurements_give(image_shown, toy_shown, expected):
    report = images(image_shown)
    if toy_shown is not None:
        report["toys"] = toys(toy_shown)
    judged = judge_claims(report)
    assert [c["id"] for c in judged] == IDS
    assert [c["verdict"] for c in judged] == [expected] * 5
    for c in judged:
        assert c["claim"] and c["paper"] and "Reproduced: every measurement shows it" in c["rule"]
        assert c["measured"].count("shows it" if image_shown else "does not") >= 1


def test_the_measured_text_carries_the_numbers():
    c1, c2, *_ = judge_claims({**images(True), "toys": toys(True)})
    assert "SupCon 0.700 vs SimCLR 0.800" in c1["measured"] and "toy:" in c1["measured"]
    assert "0.150 (0.850 → 0.700)" in c2["measured"]


def test_c1_needs_supcon_below_simclr_by_the_margin():
    report = images(True)
    report["collapse"]["supcon"]["fine_h"] = 0.80 - MARGIN / 2  # below, but by less than the margin
    assert verdicts(report)[0] == "not at this scale"
    report["collapse"]["supcon"]["fine_h"] = 0.80 - 2 * MARGIN
    assert verdicts(report)[0] == "reproduced"


def test_c2_needs_a_drop_above_the_margin_and_above_simclrs():
    report = images(True)
    report["collapse"]["supcon"]["curve"] = curve(0.80, 0.80 - MARGIN / 2)
    assert verdicts(report)[1] == "not at this scale"
    report["collapse"]["supcon"]["curve"] = curve(0.85, 0.80)  # 0.05: above the margin ...
    report["collapse"]["simclr"]["curve"] = curve(0.88, 0.80)  # ... but SimCLR drops more
    assert verdicts(report)[1] == "not at this scale"


def test_c3_compares_the_smallest_and_largest_p_of_simclr_at_q_0():
    report = images(True)
    report["suppression"]["simclr-q0-p128"]["class_h"] = 0.60 + MARGIN / 2
    assert verdicts(report)[2] == "not at this scale"
    report["suppression"]["simclr-q0-p8"] = {"method": "simclr", "q": 0.0, "p": 8, "class_h": 0.99}
    assert verdicts(report)[2] == "not at this scale"  # a middle p does not count


def test_c4_compares_q_1_with_q_0_at_the_largest_p():
    report = images(True)
    report["suppression"]["simclr-q1-p128"]["class_h"] = 0.75
    assert verdicts(report)[3] == "not at this scale"
    report["suppression"]["simclr-q1-p2"]["class_h"] = 0.99  # q = 1 at the smallest p is not the rule's
    assert verdicts(report)[3] == "not at this scale"


def test_c5_needs_both_the_fine_probe_and_the_garment_probe_of_the_joint_loss():
    report = images(True)
    report["suppression"]["joint-q0-p2"]["class_h"] = 0.60 - 2 * MARGIN  # suppressed more than SimCLR
    assert verdicts(report)[4] == "not at this scale"
    report = images(True)
    report["collapse"]["joint"]["fine_h"] = 0.70 + MARGIN / 2  # hardly above SupCon
    assert verdicts(report)[4] == "not at this scale"


def test_one_toy_number_on_the_wrong_side_makes_a_claim_partly():
    report = {**images(True), "toys": toys(True)}
    report["toys"]["fs_few"]["q1"] = TOY_HIGH - 0.05
    assert verdicts(report) == ["reproduced", "reproduced", "reproduced", "partly", "reproduced"]
    report["toys"]["cc"]["scl_final"] = TOY_LOW + 0.05  # SupCon's toy no longer collapses: C1 and C2
    assert verdicts(report) == ["partly", "partly", "reproduced", "partly", "reproduced"]


@pytest.mark.slow
def test_the_linear_toys_pass_the_toys_rules(tmp_path):
    lines = []
    toy = measure_toys(lines.append, root=tmp_path)
    cc, fs, few = toy["cc"], toy["fs"], toy["fs_few"]
    assert cc["scl_final"] <= TOY_LOW and cc["scl_max"] >= TOY_HIGH  # SupCon learns, then unlearns
    assert cc["ucl_final"] >= TOY_HIGH and cc["joint_final"] >= TOY_HIGH
    assert fs["small_p"] <= TOY_LOW and fs["large_p"] >= TOY_HIGH and fs["joint_small_p"] >= TOY_HIGH
    assert few["max_over_p"] <= TOY_LOW and few["q1"] >= TOY_HIGH
    assert (fs["k_e"], fs["n"], few["k_e"], few["n"]) == (32, 1000, 128, 64)
    assert len(lines) == 3 and any("toy" in line.lower() for line in toy["lines"])
    # with the toys' own numbers, images that show nothing leave every claim partly
    assert verdicts({**images(False), "toys": toy}) == ["partly"] * 5
    assert any(tmp_path.iterdir())  # the toys were cached in the runs folder given
