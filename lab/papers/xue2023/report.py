"""The Markdown report of `python -m lab reproduce xue2023` (docs/reproduce/xue2023.md).

Xue et al. 2023; every number comes from the report's JSON, which lab.papers.xue2023.reproduce computed;
the verdict rules are lab.papers.xue2023.claims.
"""

from __future__ import annotations

from lab.papers.reports import provenance_markdown, rerun_line
from lab.papers.xue2023.constants import CITE


def _f(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def collapse_table(col: dict) -> list[str]:
    px = next((m["pixels"] for m in col.values() if "pixels" in m), {})
    lines = ["| Run | coarse (trained labels), h | fine (subclasses), h | fine, z | fine over training: best → final "
             "(collapse drop) | run |", "|---|---|---|---|---|---|"]  # fmt: skip
    for name, m in col.items():
        c = m["curve"]
        lines.append(f"| {name} | {_f(m.get('class_h'))} | {_f(m.get('fine_h'))} | {_f(m.get('fine_z'))} | "
                     f"{c['max']:.3f} → {c['final']:.3f} ({c['collapse_drop']:+.3f}) | `{m['id']}` |")  # fmt: skip
    lines.append(f"| pixels (PCA-64) | {_f(px.get('class'))} | {_f(px.get('fine'))} | — | — | — |")
    return lines


def suppression_table(sup: dict) -> list[str]:
    px = next((m["pixels"] for m in sup.values() if "pixels" in m), {})
    lines = ["| Method | q | p | garment (relevant), h | digit (irrelevant), h | garment, z | digit, z | run |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for m in sup.values():
        lines.append(f"| {m['method']} | {m['q']:g} | {m['p']} | {_f(m.get('class_h'))} | {_f(m.get('digit_h'))} | "
                     f"{_f(m.get('class_z'))} | {_f(m.get('digit_z'))} | `{m['id']}` |")  # fmt: skip
    lines.append(f"| pixels (PCA-64) | — | — | {_f(px.get('class'))} | {_f(px.get('digit'))} | — | — | — |")
    return lines


def render_markdown(report: dict) -> str:
    """The report as Markdown (what docs/reproduce/xue2023.md holds and the app shows)."""
    st = report["setting"]
    out = [
        f"# Reproduction: {CITE}",
        "",
        "Class collapse on fashion-mnist-coarse (5 coarse classes of 2 Fashion-MNIST classes; runs train on the "
        "coarse labels, probes read the fine ones) and feature suppression on digit-on-fashion-mnist (a random "
        "digit blended into each garment; q = probability that view 2 gets another digit), both the lab's "
        "adaptations [L] of the paper's CIFAR-100 and MNIST-on-CIFAR protocols; and the linear toys [L, after the "
        'paper\'s model] (docs/science.md, "Xue 2023"). Probes: linear, on up to 10,000 stratified training rows, '
        "scored on every test row. [P] = the paper's, [L] = the lab's design.",
        "",
        *provenance_markdown(
            report,
            "xue2023",
            scale=f"{report['scale']}; data: {st.get('data_source')}.",
            after=" One seed each.",
        ),
        "",
        "## Claims",
        "",
        "| Claim | Paper | Measured here | Verdict |",
        "|---|---|---|---|",
    ]
    out += [f"| {c['id']}: {c['claim']} | {c['paper']} | {c['measured']} | **{c['verdict']}** |"
            for c in report["claims"]]  # fmt: skip
    out += [
        "",
        f"## Class collapse ({st['snapshots']} snapshots per run)",
        "",
        *collapse_table(report["collapse"]),
    ]
    out += ["", "## Feature suppression", "", *suppression_table(report["suppression"])]
    toys = report.get("toys")
    if toys:
        out += ["", "## Linear toys", "", *toys.get("lines", [])]
    out += ["", "Verdict rules [L]:", ""]
    out += [f"- {c['id']} — {c['rule']}" for c in report["claims"]]
    return "\n".join(out + rerun_line(report))
