"""Xue et al. 2023's claims C1-C5, each judged by a stated rule from the reproduced numbers [L rules].

Each claim is measured twice: on images (lab.papers.xue2023.reproduce: fashion-mnist-coarse for
collapse, digit-on-fashion-mnist for suppression) and, when the report has them, on the linear toys
(lab.papers.xue2023.toy_claims). A claim is *reproduced* when every measurement shows it, *partly*
when one does, else *not at this scale*. Verdicts: lab.papers.reports.VERDICTS.
"""

from __future__ import annotations

from lab.papers.claims_index import claim_sentence

MARGIN = 0.02  # an accuracy difference this large counts (one seed each) [L]
TOY_HIGH, TOY_LOW = 0.9, 0.6  # a toy probe "learned" at or above, "at chance" at or below (chance 0.5) [L]


def _verdict(shown: list[bool]) -> str:
    return "reproduced" if shown and all(shown) else "partly" if any(shown) else "not at this scale"


def _claim(cid: str, paper: str, parts: list[tuple[str, bool, str]]) -> dict:
    """parts: (what was measured, shown?, its rule) for each measurement of the claim."""
    return {"id": cid, "claim": claim_sentence("xue2023", cid), "paper": paper,
            "measured": "; ".join(f"{m} ({'shows it' if ok else 'does not'})" for m, ok, _ in parts),
            "verdict": _verdict([ok for _, ok, _ in parts]),
            "rule": "; ".join(rule for _, _, rule in parts) + ". Reproduced: every measurement shows it; partly: one "
                    "does; else not at this scale"}  # fmt: skip


def _sizes(sup: dict) -> tuple[int, int]:
    ps = sorted({m["p"] for m in sup.values()})
    return ps[0], ps[-1]


def _at(sup: dict, method: str, q: float, p: int) -> dict:
    return next(m for m in sup.values() if m["method"] == method and m["q"] == q and m["p"] == p)


def c1(r: dict) -> dict:
    col, toy = r["collapse"], r.get("toys")
    sc, ucl = col["supcon"]["fine_h"], col["simclr"]["fine_h"]
    parts = [(f"images: fine-label probe on h, SupCon {sc:.3f} vs SimCLR {ucl:.3f}", sc <= ucl - MARGIN,
              f"images: SupCon's fine probe ≤ SimCLR's − {MARGIN}")]  # fmt: skip
    if toy:
        cc = toy["cc"]
        parts.append((f"toy: final subclass probe SupCon {cc['scl_final']:.2f}, SimCLR {cc['ucl_final']:.2f}",
                      cc["scl_final"] <= TOY_LOW and cc["ucl_final"] >= TOY_HIGH,
                      f"toy: SupCon's final subclass probe ≤ {TOY_LOW}, SimCLR's ≥ {TOY_HIGH}"))  # fmt: skip
    return _claim("C1", "SupCon's minimiser collapses subclasses (subclass probe near chance)", parts)


def c2(r: dict) -> dict:
    col, toy = r["collapse"], r.get("toys")
    s, u = col["supcon"]["curve"], col["simclr"]["curve"]
    parts = [(f"images: collapse drop (best − final fine probe over {len(s['steps'])} snapshots) SupCon "
              f"{s['collapse_drop']:.3f} ({s['max']:.3f} → {s['final']:.3f}), SimCLR {u['collapse_drop']:.3f}",
              s["collapse_drop"] >= MARGIN and s["collapse_drop"] > u["collapse_drop"],
              f"images: SupCon's collapse drop ≥ {MARGIN} and above SimCLR's")]  # fmt: skip
    if toy:
        cc = toy["cc"]
        parts.append((f"toy: SupCon's subclass probe peaks at {cc['scl_max']:.2f} (step {cc['scl_max_step']}), "
                      f"ends at {cc['scl_final']:.2f}", cc["scl_max"] >= TOY_HIGH and cc["scl_final"] <= TOY_LOW,
                      f"toy: SupCon's subclass probe ≥ {TOY_HIGH} early and ≤ {TOY_LOW} at the end"))  # fmt: skip
    return _claim("C2", "subclass features are learned early, then unlearned", parts)


def c3(r: dict) -> dict:
    sup, toy = r["suppression"], r.get("toys")
    lo, hi = _sizes(sup)
    a, b = _at(sup, "simclr", 0.0, lo)["class_h"], _at(sup, "simclr", 0.0, hi)["class_h"]
    parts = [(f"images: SimCLR's garment probe on h at p = {lo}: {a:.3f}, at p = {hi}: {b:.3f}", b >= a + MARGIN,
              f"images: SimCLR's garment probe at the largest p ≥ at the smallest p + {MARGIN}")]  # fmt: skip
    if toy:
        fs = toy["fs"]
        parts.append((f"toy (k_e = {fs['k_e']}): relevant probe {fs['small_p']:.2f} at p ≤ k_e, "
                      f"{fs['large_p']:.2f} at p > k_e", fs["small_p"] <= TOY_LOW and fs["large_p"] >= TOY_HIGH,
                      f"toy: relevant probe ≤ {TOY_LOW} at p ≤ k_e and ≥ {TOY_HIGH} at p > k_e"))  # fmt: skip
    return _claim("C3", "a small embedding keeps only the easy feature; a larger one fixes it", parts)


def c4(r: dict) -> dict:
    sup, toy = r["suppression"], r.get("toys")
    _, hi = _sizes(sup)
    a, b = _at(sup, "simclr", 0.0, hi)["class_h"], _at(sup, "simclr", 1.0, hi)["class_h"]
    parts = [(f"images: SimCLR's garment probe at p = {hi}: q = 0 {a:.3f}, q = 1 {b:.3f}", b >= a + MARGIN,
              f"images: at the largest p, q = 1 (another digit in view 2) raises the garment probe by ≥ {MARGIN}")]  # fmt: skip
    if toy:
        fs = toy["fs_few"]
        parts.append((f"toy (n = {fs['n']} < k_e = {fs['k_e']}): relevant probe at most {fs['max_over_p']:.2f} over "
                      f"every p at q = 0, {fs['q1']:.2f} at q = 1", fs["max_over_p"] <= TOY_LOW and fs["q1"] >= TOY_HIGH,
                      f"toy: relevant probe ≤ {TOY_LOW} at every p with q = 0, ≥ {TOY_HIGH} with q = 1"))  # fmt: skip
    return _claim("C4", "with high-dimensional easy features, suppression persists at any p; augmentation fixes it",
                  parts)  # fmt: skip


def c5(r: dict) -> dict:
    col, sup, toy = r["collapse"], r["suppression"], r.get("toys")
    lo, _ = _sizes(sup)
    j, s = col["joint"]["fine_h"], col["supcon"]["fine_h"]
    jg, ug = _at(sup, "joint", 0.0, lo)["class_h"], _at(sup, "simclr", 0.0, lo)["class_h"]
    parts = [(f"images: fine probe joint {j:.3f} vs SupCon {s:.3f}; garment probe at p = {lo} joint {jg:.3f} vs "
              f"SimCLR {ug:.3f}", j >= s + MARGIN and jg >= ug - MARGIN,
              f"images: the joint loss's fine probe ≥ SupCon's + {MARGIN}, and its garment probe at the smallest p "
              f"no worse than SimCLR's − {MARGIN}")]  # fmt: skip
    if toy:
        cc, fs = toy["cc"], toy["fs"]
        parts.append((f"toy: joint's final subclass probe {cc['joint_final']:.2f}; joint's relevant probe at p ≤ k_e "
                      f"{fs['joint_small_p']:.2f}", cc["joint_final"] >= TOY_HIGH and fs["joint_small_p"] >= TOY_HIGH,
                      f"toy: joint's final subclass probe ≥ {TOY_HIGH} and its relevant probe at p ≤ k_e ≥ {TOY_HIGH}"))  # fmt: skip
    return _claim("C5", "the joint loss avoids both collapse and suppression", parts)


CLAIMS = (c1, c2, c3, c4, c5)


def judge_claims(report: dict) -> list[dict]:
    """One verdict per claim, computed from the report's numbers [L rules, stated in each 'rule']."""
    return [claim(report) for claim in CLAIMS]
