"""The linear toys' part of `python -m lab reproduce xue2023` (Xue et al. 2023): the numbers the verdicts
of claims C1–C5 read (lab.papers.xue2023.claims) and their lines of the report.

The settings are the spec's measured ones [D] (CC: b = 0.5, α = 0.5; FS: k_e = 32, n = 1,000 and the
few-examples regime k_e = 128, n = 64); the summaries are the lab's [L]:
- cc: the subclass probe's final value under SCL, UCL and joint, and SCL's peak and its step;
- fs: the UCL line's best relevant probe at p ≤ k_e (suppression: at chance everywhere there) and its
  worst at p > k_e (learned everywhere there), and the joint line's worst at p ≤ k_e;
- fs_few: the UCL line's best over every p at q = 0 and the line against q's value at q = 1.
Every toy is trained (or read from the runs folder's cache) through toys.cc_result / toys_fs.fs_result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from lab.papers.xue2023.toys import CCConfig, cc_result, cc_summary
from lab.papers.xue2023.toys_fs import FSConfig, fs_result

JOINT_ALPHA = 0.5  # the joint loss's weight on L_SCL in the toys' claims (the spec's measured value) [D]
FS_K_E, FS_N = 32, 1000  # the suppression setting [D]
FEW_K_E, FEW_N = 128, 64  # n < k_e: suppression at every p [D]


def _fs_numbers(ucl, joint) -> dict:
    k_e = ucl.config.k_e
    small = [a for p, a in zip(ucl.values, ucl.accuracy, strict=True) if p <= k_e]
    large = [a for p, a in zip(ucl.values, ucl.accuracy, strict=True) if p > k_e]
    joint_small = [a for p, a in zip(joint.values, joint.accuracy, strict=True) if p <= k_e]
    return {"k_e": k_e, "n": ucl.config.n, "small_p": float(max(small)), "large_p": float(min(large)),
            "joint_small_p": float(min(joint_small)), "seconds": ucl.seconds + joint.seconds}  # fmt: skip


def _line(r) -> str:
    return ", ".join(f"{v:g}: {a:.2f}" for v, a in zip(r.values, r.accuracy, strict=True))


def measure_toys(log: Callable[[str], None] = print, root: str | Path | None = None) -> dict:
    """Train (or read) the toys the claims need; returns {"cc", "fs", "fs_few", "lines", "seconds"}."""
    from lab.store.runs import default_root

    root = Path(root) if root is not None else default_root()
    start = time.perf_counter()
    cc = cc_result(CCConfig(alpha=JOINT_ALPHA), root)
    s = cc_summary(cc)
    cc_out = {"scl_final": s["SCL"]["final"], "ucl_final": s["UCL"]["final"], "scl_max": s["SCL"]["peak"],
              "scl_max_step": s["SCL"]["peak_step"], "joint_final": s["joint"]["final"], "seconds": cc.seconds}  # fmt: skip
    log(
        f"CC toy: SCL peak {cc_out['scl_max']:.2f} at step {cc_out['scl_max_step']}, final {cc_out['scl_final']:.2f}"
    )
    ucl = fs_result(FSConfig(k_e=FS_K_E, n=FS_N, axis="p"), root)
    joint = fs_result(FSConfig(k_e=FS_K_E, n=FS_N, axis="p", alpha=JOINT_ALPHA), root)
    fs = _fs_numbers(ucl, joint)
    log(f"FS toy (k_e = {FS_K_E}, n = {FS_N}): {fs['small_p']:.2f} at p ≤ k_e, {fs['large_p']:.2f} above")
    few_p = fs_result(FSConfig(k_e=FEW_K_E, n=FEW_N, axis="p"), root)
    few_q = fs_result(FSConfig(k_e=FEW_K_E, n=FEW_N, axis="q"), root)
    q1 = float(few_q.accuracy[list(few_q.values).index(1.0)])
    few = {"n": FEW_N, "k_e": FEW_K_E, "max_over_p": float(max(few_p.accuracy)), "q1": q1, "p_of_q_line": few_q.config.p,
           "seconds": few_p.seconds + few_q.seconds}  # fmt: skip
    log(f"FS toy (k_e = {FEW_K_E}, n = {FEW_N}): at most {few['max_over_p']:.2f} over p, {q1:.2f} at q = 1")
    lines = [
        f"Class-collapse toy (b = 0.5, p = 3, 3,000 full-batch GD steps; subclass probe within each class, chance "
        f"0.5) [L]: SCL peaks at {cc_out['scl_max']:.2f} (step {cc_out['scl_max_step']}) and ends at "
        f"{cc_out['scl_final']:.2f}; UCL ends at {cc_out['ucl_final']:.2f}; the joint loss (α = {JOINT_ALPHA:g}) at "
        f"{cc_out['joint_final']:.2f}.",
        "",
        f"Feature-suppression toy, k_e = {FS_K_E}, n = {FS_N} (relevant probe, chance 0.5) [L]: "
        f"UCL against p — {_line(ucl)}; joint (α = {JOINT_ALPHA:g}) — {_line(joint)}.",
        "",
        f"Feature-suppression toy, k_e = {FEW_K_E}, n = {FEW_N} (n < k_e): UCL against p at q = 0 — {_line(few_p)}; "
        f"against q at p = {few_q.config.p} — {_line(few_q)}.",
        "",
        "The toys' own page (Simplicity bias: linear toys) draws these lines; docs/science.md explains them.",
    ]
    return {"cc": cc_out, "fs": fs, "fs_few": few, "lines": lines, "seconds": time.perf_counter() - start}
