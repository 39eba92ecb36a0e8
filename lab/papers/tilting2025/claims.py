"""Baptista, Stuart & Tran 2025's claims, each judged from the reproduced numbers by a stated rule [L].

docs/science.md, "Baptista, Stuart & Tran 2025". The sentences come from lab.papers.claims_index (one
place); the numbers from the report that lab.papers.tilting2025.reproduce assembles. Verdicts:
lab.papers.reports.VERDICTS.
"""

from __future__ import annotations

from lab.papers.claims_index import claim_sentence
from lab.papers.tilting2025.constants import (
    EXAMPLE_A_JOINT,
    EXAMPLE_A_TWO_SIDED,
    EXAMPLE_MARGINAL_JOINT,
    EXAMPLE_MARGINAL_TWO_SIDED,
    EXAMPLE_TOLERANCE,
    EXAMPLE_TRUE_SLOPE,
    EXAMPLE_TRUE_VAR,
    KEY,
)

THEORY_PAGE, IMAGE_PAGE = "pages/tilting2025_theory.py", "pages/tilting2025_imagelabel.py"
TOL = EXAMPLE_TOLERANCE
MEAN_SLACK, ANGLE_MAX = 0.02, 5.0  # the n_e claim: trained within 0.02 of the closed form's error, angle ≤ 5°
CLIP_SLACK = 0.01  # nats: |CLIP − log N − L_cond| on average
ESS_RATIO = 5.0  # "collapses": the two-sided sampler's effective sample size ≥ 5x label|image's


def _claim(cid: str, paper: str, measured: str, verdict: str, rule: str, page: str = THEORY_PAGE) -> dict:
    return {"id": cid, "claim": claim_sentence(KEY, cid), "paper": paper, "measured": measured,
            "verdict": verdict, "rule": rule, "page": page}  # fmt: skip


def _off(x: float, target: float) -> float:
    return abs(x / target - 1)


def _by_tolerance(offs: list[float]) -> str:
    worst = max(offs)
    return "reproduced" if worst <= TOL else "partly" if worst <= 2.5 * TOL else "not at this scale"


RULE_TOL = (f"reproduced: every trained value within {TOL:.0%} of the closed form; partly: within "
            f"{2.5 * TOL:.0%}; else not at this scale (1,500 Adam steps, fresh batches of 512)")  # fmt: skip


def bilinear_claim(cid: str, run: dict, a_star: float, marginal: float, what: str) -> dict:
    t = run["example"]["trained"]
    offs = [_off(t["a"], a_star), _off(run["marginal_u"], marginal)]
    return _claim(cid, f"{what}: A* = {a_star:.4g}, the model's marginal variance of u {marginal:g} (true 1.5) [D]",
                  f"A = {t['a']:.4f} ({offs[0]:.1%} off), marginal variance {run['marginal_u']:.3f} "
                  f"({offs[1]:.1%} off); u|v = N({t['slope']:.3f} v, {t['var']:.3f})",
                  _by_tolerance(offs), RULE_TOL)  # fmt: skip


def two_sided_claim(example: dict) -> dict:
    return bilinear_claim("C1", example["two-sided/bilinear"], EXAMPLE_A_TWO_SIDED, EXAMPLE_MARGINAL_TWO_SIDED,
                          "2-D example, two-sided, bilinear")  # fmt: skip


def joint_claim(example: dict) -> dict:
    return bilinear_claim("C2", example["joint/bilinear"], EXAMPLE_A_JOINT, EXAMPLE_MARGINAL_JOINT,
                          "2-D example, joint, bilinear (h(2/3) = 0.5)")  # fmt: skip


def quadratic_claim(example: dict) -> dict:
    t = example["u|v/quadratic"]["example"]["trained"]
    offs = [_off(t["slope"], EXAMPLE_TRUE_SLOPE), _off(t["var"], EXAMPLE_TRUE_VAR)]
    return _claim("C3", f"2-D example: u|v = N({EXAMPLE_TRUE_SLOPE:.3f} v, {EXAMPLE_TRUE_VAR:.3f}) exactly [D]",
                  f"u|v = N({t['slope']:.4f} v, {t['var']:.4f}) ({offs[0]:.1%} and {offs[1]:.1%} off)",
                  _by_tolerance(offs), RULE_TOL)  # fmt: skip


def rank_claim(rows: list[dict]) -> dict:
    """rows: the n_e sweep of the two-sided bilinear loss (results.sweep_rows)."""
    rows = sorted((r for r in rows if r["loss"] == "two-sided"), key=lambda r: r["value"])
    close = all(
        abs(r["mean u|v"] - r["closed-form mean u|v"]) <= MEAN_SLACK and r["angle"] <= ANGLE_MAX for r in rows
    )
    shared = max(r["rank"] for r in rows)  # rank = min(n_e, the shared rank)
    full = [r for r in rows if r["value"] >= shared]
    low = bool(full) and all(r["mean u|v"] <= 0.05 for r in full)
    measured = "; ".join(f"n_e = {r['value']}: mean error {r['mean u|v']:.3f} (closed form {r['closed-form mean u|v']:.3f}), "
                         f"angle {r['angle']:.1f}°" for r in rows)  # fmt: skip
    return _claim("C4", "conditional-mean error falls to 0 at n_e = the shared rank (3 here) [D]", measured,
                  "reproduced" if close else "partly" if low else "not at this scale",
                  f"reproduced: at every n_e the trained u|v mean error within {MEAN_SLACK} of the closed form's and "
                  f"the largest principal angle ≤ {ANGLE_MAX:g}°; partly: the error ≤ 0.05 from the shared rank on; "
                  "else not at this scale (two-sided loss, bilinear tilt)")  # fmt: skip


def batch_claim(bias: list[dict]) -> dict:
    """bias: per batch size, the two-sided loss's spectrum deviation over several seeds (reproduce.batch_bias)."""
    rows = sorted(bias, key=lambda r: r["value"])
    means = [r["mean"] for r in rows]
    measured = "; ".join(f"N = {r['value']}: {r['mean']:+.2%} ± {r['sd']:.2%}" for r in rows)
    verdict = ("reproduced" if all(m > 0 for m in means) and means[0] > means[-1]
               else "partly" if means[0] > means[-1] else "not at this scale")  # fmt: skip
    return _claim("C5", "CLIP's minibatch minimiser is biased upward, less as N grows [D]",
                  f"learned vs closed-form canonical spectrum, mean relative deviation ± sd over {len(rows[0]['bias'])} "
                  f"seeds: {measured}", verdict,
                  "reproduced: the deviation, averaged over seeds, is positive at every batch size and larger at the "
                  "smallest than at the largest; partly: larger at the smallest; else not at this scale (two-sided "
                  "loss)")  # fmt: skip


def inequality_claim(check: dict) -> dict:
    held, n = check["held"], check["n_encoders"]
    return _claim("C6", "L_cond ≤ L_joint for every pair of encoders [P]",
                  f"held for {held} of {n} random MLP encoder pairs (smallest gap {check['min_gap']:.4f}, "
                  f"mean {check['mean_gap']:.3f})",
                  "reproduced" if held == n else "not at this scale",
                  "reproduced: it holds for every random encoder pair; else not at this scale")  # fmt: skip


def clip_claim(checks: list[dict]) -> dict:
    worst = max(abs(c["mean_difference"]) for c in checks)
    measured = "; ".join(f"L_cond = {c['population']:.4f}: CLIP − log N − L_cond = {c['mean_difference']:+.4f} "
                         f"(sd {c['sd_difference']:.4f} over {c['batches']} batches of {c['n']})" for c in checks)  # fmt: skip
    return _claim("C7", "CLIP / InfoNCE = L_cond + log N [P]", measured,
                  "reproduced" if worst <= CLIP_SLACK else "partly" if worst <= 5 * CLIP_SLACK else "not at this scale",
                  f"reproduced: the mean difference within {CLIP_SLACK} nats for every tilt tried; partly: within "
                  f"{5 * CLIP_SLACK}; else not at this scale")  # fmt: skip


def sharpness_claim(demo: dict) -> dict:
    m = demo["losses"]
    top = max(m, key=lambda loss: m[loss]["max_probability"])
    low = min(m, key=lambda loss: m[loss]["entropy"])
    measured = "; ".join(f"{loss}: mean largest probability {r['max_probability']:.3f}, entropy {r['entropy']:.3f} "
                         f"nats, accuracy {r['accuracy']:.3f}" for loss, r in m.items())  # fmt: skip
    hits = (top == "label|image") + (low == "label|image")
    return _claim("C8", "label|image sharpest [P]", measured,
                  "reproduced" if hits == 2 else "partly" if hits == 1 else "not at this scale",
                  "reproduced: label|image has the largest mean top probability and the lowest mean entropy on the "
                  "test split; partly: one of the two; else not at this scale", IMAGE_PAGE)  # fmt: skip


def diversity_claim(demo: dict) -> dict:
    two, ce = demo["losses"]["two-sided"], demo["losses"]["label|image"]
    ratio = two["ess"] / max(ce["ess"], 1e-12)
    measured = "; ".join(f"{loss}: effective sample size {r['ess']:.1f}, largest weight {r['top_weight']:.3f}, "
                         f"{r['distinct']:.1f} distinct of {demo['config']['draws']} draws, "
                         f"{r['on_label']:.0%} of the weight on the label" for loss, r in demo["losses"].items())  # fmt: skip
    verdict = ("reproduced" if ratio >= ESS_RATIO and two["distinct"] > ce["distinct"]
               else "partly" if ratio > 1 else "not at this scale")  # fmt: skip
    return _claim("C9", "diverse under two-sided, collapsed under label|image [P]",
                  f"{measured} (pool of {demo['config']['pool']:,} test images; ratio {ratio:.1f}x)", verdict,
                  f"reproduced: the two-sided sampler's effective sample size ≥ {ESS_RATIO:g}x label|image's and it "
                  "draws more distinct images; partly: a larger effective sample size; else not at this scale",
                  IMAGE_PAGE)  # fmt: skip


def judge_claims(report: dict) -> list[dict]:
    """One verdict per claim, in the index's order, from the report's numbers (reproduce.main assembles it):
    report["example"], ["sweeps"]["n_e"], ["sweeps"]["batch_bias"], ["identities"], ["image_label"]."""
    ex, sw, ids = report["example"], report["sweeps"], report["identities"]
    return [two_sided_claim(ex), joint_claim(ex), quadratic_claim(ex), rank_claim(sw["n_e"]), batch_claim(sw["batch_bias"]),
            inequality_claim(ids["conditional_vs_joint"]), clip_claim(ids["clip"]),
            sharpness_claim(report["image_label"]), diversity_claim(report["image_label"])]  # fmt: skip
