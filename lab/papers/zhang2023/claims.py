"""Zhang, Lu & Xuan 2023's claims, each judged from the reproduced numbers by a stated rule [L].

docs/science.md, section "Zhang 2023". Verdicts: lab.papers.reports.VERDICTS.
"""

from __future__ import annotations

from lab.papers.zhang2023.constants import (
    PAPER_GCN_SAVED_RUN,
    PAPER_PURITY_SUPERVISED,
    PAPER_PURITY_VIT,
    PAPER_TOP_PAIR_CONTRASTIVE,
    PAPER_TOP_PAIR_SUPERVISED,
    PURITY_PS,
    REPORT_TAUS,
)


def probe_row(m: dict, probe: str, budget: float) -> dict | None:
    row = next((r for r in m["probes"] if r["probe"] == probe and r["budget"] == budget), None)
    return row if row is not None and row.get("accuracy") is not None else None


def purity_p_max(measures: dict) -> int:
    """The largest paper p at most half the smallest training class [L]: beyond it even a perfect
    representation loses purity (a class has fewer members than neighbours asked for)."""
    half = min(measures[k]["smallest_class"] for k in ("supervised", "simclr")) / 2
    fits = [p for p in PURITY_PS if p <= half and str(p) in measures["simclr"]["purity"]]
    return max(fits) if fits else 1


def _claim(claim: str, paper: str, measured: str, verdict: str, rule: str) -> dict:
    return {"claim": claim, "paper": paper, "measured": measured, "verdict": verdict, "rule": rule}


def chs_claim(sup: dict, sim: dict, pairs: dict) -> dict:
    ratio = sup["chs"] / sim["chs"] if sim["chs"] > 0 else float("inf")
    return _claim("Supervised clusters are globally dense; contrastive ones are not (CHS).",
                  "CHS supervised ≫ contrastive (contrastive falls to ~10 during training)",
                  f"CHS supervised {sup['chs']:.1f} vs SimCLR {sim['chs']:.1f} (×{ratio:.2f})",
                  "reproduced" if ratio >= 2 else "partly" if ratio > 1 else "not at this scale",
                  "reproduced: supervised CHS ≥ 2× SimCLR's; partly: higher; else not at this scale")  # fmt: skip


def rld_claim(sup: dict, sim: dict, pairs: dict) -> dict:
    tau = f"{min(REPORT_TAUS):g}"
    r_sup, r_sim = sup["rld"][tau]["mean"], sim["rld"][tau]["mean"]
    rld_share = r_sim / r_sup if r_sup > 0 else float("nan")
    chs_share = sim["chs"] / sup["chs"] if sup["chs"] > 0 else float("nan")
    verdict = (
        "reproduced" if rld_share >= 0.8 and rld_share >= 2 * chs_share
        else "partly" if rld_share > chs_share
        else "not at this scale"
    )  # fmt: skip
    return _claim(f"Contrastive clusters stay locally dense: RLD stays high where CHS collapses (τ={tau}).",
                  "RLD contrastive close to supervised, while its CHS is far lower",
                  f"RLD SimCLR {r_sim:.3f} vs supervised {r_sup:.3f} (keeps {rld_share:.0%}); CHS keeps {chs_share:.0%}",
                  verdict, "reproduced: SimCLR keeps ≥ 80 % of supervised RLD and ≥ 2× the share of CHS it keeps; "
                  "partly: keeps more of RLD than of CHS; else not at this scale")  # fmt: skip


def purity_claim(sup: dict, sim: dict, pairs: dict) -> dict:
    p = str(purity_p_max({"supervised": sup, "simclr": sim}))
    drop_sim = sim["purity"]["1"] - sim["purity"][p]
    drop_sup = sup["purity"]["1"] - sup["purity"][p]
    far = max(PAPER_PURITY_VIT)
    return _claim(f"Contrastive neighbourhoods are pure locally, mixed globally (purity p = 1 → {p}).",
                  f"contrastive falls with p (ViT {PAPER_PURITY_VIT[1]} → {PAPER_PURITY_VIT[far]} at p = {far}); "
                  f"supervised ≈ {PAPER_PURITY_SUPERVISED} flat",
                  f"SimCLR {sim['purity']['1']:.3f} → {sim['purity'][p]:.3f} (−{drop_sim:.3f}); "
                  f"supervised {sup['purity']['1']:.3f} → {sup['purity'][p]:.3f} (−{drop_sup:.3f})",
                  "reproduced" if drop_sim >= 0.1 and drop_sim >= 2 * drop_sup
                  else "partly" if drop_sim > drop_sup else "not at this scale",
                  "reproduced: SimCLR's drop ≥ 0.1 and ≥ 2× supervised's; partly: larger drop; else not at this scale")  # fmt: skip


def pairs_claim(sup: dict, sim: dict, pairs: dict) -> dict:
    gap = pairs["mean_simclr"] - pairs["mean_supervised"]
    return _claim("Contrastive learning places near-identical images of different classes together.",
                  f"top cross-class pair: cosine {PAPER_TOP_PAIR_CONTRASTIVE} contrastive vs {PAPER_TOP_PAIR_SUPERVISED} supervised",
                  f"top pair {pairs['top1_simclr']:.3f} SimCLR vs {pairs['top1_supervised']:.3f} supervised; "
                  f"top {pairs['n_pairs']} mean {pairs['mean_simclr']:.3f} vs {pairs['mean_supervised']:.3f}",
                  "reproduced" if pairs["top1_simclr"] >= 0.95 and gap >= 0.3 else "partly" if gap > 0.05
                  else "not at this scale",
                  "reproduced: SimCLR top pair ≥ 0.95 and the same pairs ≥ 0.3 lower under supervision (mean of "
                  "the top pairs); partly: > 0.05 lower; else not at this scale")  # fmt: skip


def gcn_claim(sup: dict, sim: dict, pairs: dict) -> dict:
    lines, wins, clear = [], 0, 0
    for b in sorted({r["budget"] for r in sim["probes"]}):
        g, lin = probe_row(sim, "gcn-labels", b), probe_row(sim, "linear", b)
        if g is None or lin is None:
            continue
        linear = lin["accuracy"]
        stored = sim.get("stored_linear") if b == 1.0 else None  # the run's own score, all labels
        if stored is not None and stored > linear:
            linear = stored
            lines.append(f"{b:.0%}: GCN {g['accuracy']:.3f} vs linear {lin['accuracy']:.3f} "
                         f"(the run's standardised linear score: {stored:.3f})")  # fmt: skip
        else:
            lines.append(f"{b:.0%}: GCN {g['accuracy']:.3f} vs linear {linear:.3f}")
        wins += g["accuracy"] > linear
        clear += g["ci_low"] > linear
    n = len(lines)
    return _claim("A GCN on the RLD graph classifies contrastive features better than a linear probe.",
                  f"GCN > linear (doubtful: the authors' saved run has GCN {PAPER_GCN_SAVED_RUN[0]} vs linear {PAPER_GCN_SAVED_RUN[1]})",
                  "SimCLR, " + "; ".join(lines) if lines else "no budget had enough labels",
                  "reproduced" if n and clear == n else "partly" if wins else "not at this scale",
                  "reproduced: GCN (label inputs) above the linear probe beyond its 95 % interval at every budget; "
                  "partly: higher at some budget; else not at this scale. At 100 % of the labels the linear score "
                  "is the better of the probe's and the run's own (standardised) linear score")  # fmt: skip


CLAIMS = (chs_claim, rld_claim, purity_claim, pairs_claim, gcn_claim)


def judge_claims(measures: dict, pairs: dict) -> list[dict]:
    """One verdict per claim of the paper, computed from the numbers [L rules, stated in each 'rule'].

    measures: {"supervised": measure(), "simclr": measure(), "pixels": measure()}; pairs: pairs_summary().
    Returns dicts with claim, paper (direction of effect), measured, verdict, rule.
    """
    return [claim(measures["supervised"], measures["simclr"], pairs) for claim in CLAIMS]
