"""SAG-VICReg's claims, each judged from the reproduced numbers by a stated rule [L].

Simai, Talmon & Shaham 2025; docs/science.md, "SAG-VICReg" and "Global structure (M1, M2)". Verdicts:
lab.papers.reports.VERDICTS. measures: {"vicreg", "sag-vicreg", "pixels"} -> lab.papers.sag2025.reproduce.measure().
"""

from __future__ import annotations

from lab.papers.claims_index import claim_sentence

GLOBAL_MARGIN = 0.05  # a rise in the cophenetic correlation this large counts [L]
KNN_MARGIN = 0.01  # a kNN gain this large counts (one seed each) [L]


def _claim(claim: str, paper: str, measured: str, verdict: str, rule: str) -> dict:
    return {"claim": claim, "paper": paper, "measured": measured, "verdict": verdict, "rule": rule}


def _vs_pixels(m: dict, px: dict) -> str:
    return f" (pixels {px['knn_acc']:.3f}: below them)" if m["knn_acc"] < px["knn_acc"] else ""


def global_claim(vic: dict, sag: dict, px: dict) -> dict:
    rule = (f"reproduced: SAG-VICReg's M1 cophenetic correlation ≥ VICReg's + {GLOBAL_MARGIN} and its M1 Spearman "
            "not lower; partly: higher on either; else not at this scale")  # fmt: skip
    paper = "SAG-VICReg's embeddings rank classes closer to their semantic hierarchy than VICReg's (the paper's own metric)"
    claim = claim_sentence("sag2025", "C2") + " Measured with M1, the lab's stand-in."
    if vic["m1"] is None or sag["m1"] is None:
        return _claim(
            claim, paper, "no superclass tree for this dataset: M1 is not defined", "not at this scale", rule
        )
    a, b = vic["m1"], sag["m1"]
    d_coph, d_spear = b["cophenetic"] - a["cophenetic"], b["spearman"] - a["spearman"]
    verdict = (
        "reproduced" if d_coph >= GLOBAL_MARGIN and d_spear >= 0
        else "partly" if d_coph > 0 or d_spear > 0
        else "not at this scale"
    )  # fmt: skip
    px = px["m1"] or {}
    measured = (f"cophenetic SAG {b['cophenetic']:.3f} vs VICReg {a['cophenetic']:.3f} ({d_coph:+.3f}); Spearman "
                f"{b['spearman']:.3f} vs {a['spearman']:.3f} ({d_spear:+.3f}); pixels {px.get('cophenetic', float('nan')):.3f} / "
                f"{px.get('spearman', float('nan')):.3f}")  # fmt: skip
    return _claim(claim, paper, measured, verdict, rule)


def knn_claim(vic: dict, sag: dict, px: dict) -> dict:
    gain = sag["knn_acc"] - vic["knn_acc"]
    return _claim(claim_sentence("sag2025", "C1") + " Measured by kNN accuracy on the test split.",
                  "SAG-VICReg above VICReg in downstream accuracy",
                  f"kNN SAG {sag['knn_acc']:.3f}{_vs_pixels(sag, px)} vs VICReg {vic['knn_acc']:.3f} ({gain:+.3f}); "
                  f"linear {sag['linear_acc']:.3f} vs {vic['linear_acc']:.3f}",
                  "reproduced" if gain >= KNN_MARGIN else "partly" if gain > 0 else "not at this scale",
                  f"reproduced: SAG-VICReg's kNN accuracy ≥ VICReg's + {KNN_MARGIN}; partly: higher; else not at "
                  "this scale (one seed each)")  # fmt: skip


def walks_claim(vic: dict, sag: dict, px: dict) -> dict:
    chance = 1 / sag["n_classes"]
    p = sag.get("walk_precision")
    rule = "reproduced: run-mean walk precision ≥ 0.5 and ≥ 3× chance; partly: above chance; else not at this scale"
    claim = "Walks on the batch's kNN graph reach semantically related images (walk precision) [L check]."
    paper = "random-walk endpoints are semantically related positives beyond augmentation"
    if p is None:
        return _claim(claim, paper, "the SAG run recorded no walks", "not at this scale", rule)
    verdict = (
        "reproduced" if p >= 0.5 and p >= 3 * chance else "partly" if p > chance else "not at this scale"
    )
    return _claim(claim, paper, f"walk precision {p:.3f} over the run (last batch {sag['walk_precision_last']:.3f}); "
                  f"chance {chance:.3f}", verdict, rule)  # fmt: skip


CLAIMS = (knn_claim, global_claim, walks_claim)  # the claims index's C1, C2, then the lab's check


def judge_claims(measures: dict) -> list[dict]:
    """One verdict per claim, computed from the numbers [L rules, stated in each 'rule']."""
    return [claim(measures["vicreg"], measures["sag-vicreg"], measures["pixels"]) for claim in CLAIMS]
