"""SePP's claims, each judged from the reproduced numbers by a stated rule [L].

Alkhalefi, Leontidis & Zhong 2023; docs/science.md, "SePP". Verdicts: lab.papers.reports.VERDICTS.
measures: {"simclr", "sepp-learned", "sepp-pixels", "sepp-oracle", "sepp-random", "pixels"} ->
lab.papers.sepp2023.reproduce.measure().
"""

from __future__ import annotations

from lab.papers.claims_index import claim_sentence
from lab.papers.sepp2023.constants import PAPER_GAIN

KNN_MARGIN = 0.01  # a kNN gain this large counts (one seed each) [L]


def _claim(claim: str, paper: str, measured: str, verdict: str, rule: str) -> dict:
    return {"claim": claim, "paper": paper, "measured": measured, "verdict": verdict, "rule": rule}


def gain_claim(ms: dict) -> dict:
    base, sepp, px = ms["simclr"], ms["sepp-learned"], ms["pixels"]
    knn, lin = sepp["knn_acc"] - base["knn_acc"], sepp["linear_acc"] - base["linear_acc"]
    below = f" (pixels {px['knn_acc']:.3f}: below them)" if sepp["knn_acc"] < px["knn_acc"] else ""
    return _claim(claim_sentence("sepp2023", "C1"),
                  f"SePP over its base method ({PAPER_GAIN})",
                  f"kNN SePP-SimCLR {sepp['knn_acc']:.3f}{below} vs SimCLR {base['knn_acc']:.3f} ({knn:+.3f}); linear "
                  f"{sepp['linear_acc']:.3f} vs {base['linear_acc']:.3f} ({lin:+.3f})",
                  "reproduced" if knn >= KNN_MARGIN and lin > 0 else "partly" if knn > 0 or lin > 0
                  else "not at this scale",
                  f"reproduced: SePP-SimCLR (SimCLR sampler) kNN ≥ SimCLR's + {KNN_MARGIN} and its linear accuracy "
                  "higher; partly: either higher; else not at this scale (one seed each)")  # fmt: skip


def bounds_claim(ms: dict) -> dict:
    o, learned, r = ms["sepp-oracle"], ms["sepp-learned"], ms["sepp-random"]
    ordered = o["knn_acc"] > learned["knn_acc"] > r["knn_acc"]
    return _claim(claim_sentence("sepp2023", "C2"),
                  "semantic pairs help because they are semantic (the paper's premise)",
                  f"kNN oracle {o['knn_acc']:.3f} (pairs {o['pair_precision']:.3f}), SimCLR-mined {learned['knn_acc']:.3f} "
                  f"({learned['pair_precision']:.3f}), pixel-mined {ms['sepp-pixels']['knn_acc']:.3f} "
                  f"({ms['sepp-pixels']['pair_precision']:.3f}), random {r['knn_acc']:.3f} ({r['pair_precision']:.3f})",
                  "reproduced" if ordered else "partly" if o["knn_acc"] > r["knn_acc"] else "not at this scale",
                  "reproduced: kNN oracle > SimCLR-mined > random; partly: oracle > random; else not at this scale")  # fmt: skip


def mining_claim(ms: dict) -> dict:
    p, chance = ms["sepp-learned"]["pair_precision"], 1 / ms["simclr"]["n_classes"]
    px = ms["sepp-pixels"]["pair_precision"]
    verdict = (
        "reproduced" if p >= 0.5 and p >= 3 * chance else "partly" if p > chance else "not at this scale"
    )
    return _claim("An encoder trained without labels mines mostly same-class pairs from un-augmented images [L check].",
                  "nearest neighbours under a self-supervised encoder are semantic positives",
                  f"pair precision {p:.3f} with the SimCLR sampler (coverage {ms['sepp-learned']['coverage']:.3f}); "
                  f"pixels (PCA-64) as the sampler {px:.3f}; chance {chance:.3f}",
                  verdict, "reproduced: SimCLR-sampler pair precision ≥ 0.5 and ≥ 3× chance; partly: above chance; "
                  "else not at this scale")  # fmt: skip


CLAIMS = (gain_claim, bounds_claim, mining_claim)  # the claims index's C1, C2, then the lab's check


def judge_claims(measures: dict) -> list[dict]:
    """One verdict per claim, computed from the numbers [L rules, stated in each 'rule']."""
    return [claim(measures) for claim in CLAIMS]
