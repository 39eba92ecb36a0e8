"""The Markdown report of `python -m lab reproduce zhang2023` (docs/reproduce/zhang2023.md).

Zhang, Lu & Xuan 2023; every number comes from the report's JSON, which lab.papers.zhang2023.reproduce
computed; the verdict rules are lab.papers.zhang2023.claims.
"""

from __future__ import annotations

from lab.measures.probes.knn import KNN_K
from lab.papers.reports import claims_markdown, provenance_markdown, rerun_line
from lab.papers.zhang2023.claims import probe_row
from lab.papers.zhang2023.constants import (
    CITE,
    CODE,
    PAPER_PURITY_SUPERVISED,
    PAPER_PURITY_VIT,
    PAPER_TOP_PAIR_CONTRASTIVE,
    PAPER_TOP_PAIR_SUPERVISED,
    REPORT_PS,
    REPORT_TAUS,
)


def _fmt_probe(m: dict, probe: str, budget: float) -> str:
    row = probe_row(m, probe, budget)
    if row is None:
        return "— (too few labels)"
    return f"{row['accuracy']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def measurements_table(section: dict) -> list[str]:
    """Markdown rows: every measure for supervised, SimCLR and pixels beside the paper's direction."""
    ms = section["measures"]
    order = [ms["supervised"], ms["simclr"], ms["pixels"]]
    lines = ["| Measure | Paper's direction of effect | supervised | SimCLR | pixels (PCA-64) |",
             "|---|---|---|---|---|"]  # fmt: skip
    for tau in REPORT_TAUS:
        t = f"{tau:g}"
        cells = [f"{m['rld'][t]['mean']:.3f} ± {m['rld'][t]['std']:.3f}" for m in order]
        direction = (
            "contrastive stays high, close to supervised" if tau < 1 else "low for all (τ = 1 is coarse)"
        )
        lines.append(f"| RLD, τ = {t} [P] | {direction} | " + " | ".join(cells) + " |")
    if all("rld_all" in m for m in order):
        a = order[0]["rld_all"]
        cells = [f"{m['rld_all']['value']:.3f} ({m['rld_all']['seconds']:.0f} s)" for m in order]
        lines.append(f"| RLD, τ = {a['tau']:g}, all {a['n']:,} training points, exact [P] | the subsample "
                     "estimate above should agree | " + " | ".join(cells) + " |")  # fmt: skip
    lines.append("| CHS (Calinski–Harabasz) [P] | supervised ≫ contrastive | "
                 + " | ".join(f"{m['chs']:.1f}" for m in order) + " |")  # fmt: skip
    for p in REPORT_PS:
        if str(p) not in ms["simclr"]["purity"]:
            continue
        cells = [f"{m['purity'][str(p)]:.3f}" for m in order]
        lines.append(f"| kNN class purity, p = {p} [P] | contrastive {PAPER_PURITY_VIT[p]:.3f} (ViT), supervised ≈ {PAPER_PURITY_SUPERVISED} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    for b in section["budgets"]:
        for probe, label, direction in (
            ("linear", "Linear probe", "—"),
            ("knn", f"kNN probe (k = {KNN_K}) [L]", "—"),
            ("gcn-labels", "GCN, label inputs [P]", "GCN > linear on contrastive features"),
            ("gcn-features", "GCN, feature inputs [L]", "—"),
        ):
            cells = [_fmt_probe(m, probe, b) for m in order]
            lines.append(f"| {label}, {b:.0%} labels | {direction} | " + " | ".join(cells) + " |")
    pr, sup = section["pairs"], f"{PAPER_TOP_PAIR_SUPERVISED:g}".replace("-", "−")  # a minus sign, not a hyphen
    lines.append(f"| Top cross-class pair cosine (SimCLR's pair) [P] | contrastive {PAPER_TOP_PAIR_CONTRASTIVE}, supervised {sup} | "
                 f"{pr['top1_supervised']:.3f} | {pr['top1_simclr']:.3f} | — |")  # fmt: skip
    return lines


def render_markdown(report: dict) -> str:
    """The report as Markdown (what docs/reproduce/zhang2023.md holds and the Probes page shows)."""
    out = [
        f"# Reproduction: {CITE}",
        "",
        f'Paper code: {CODE}. Definitions: docs/science.md, section "Zhang 2023". '
        "[P] = the paper's measure, [L] = the lab's design.",
        "",
        *provenance_markdown(report, "zhang2023"),
    ]
    for section in report["datasets"]:
        sc = section["scale"]
        rld = section["measures"]["simclr"]["rld"][f"{REPORT_TAUS[0]:g}"]
        draws = len(rld["values"])
        rld_text = (f"{rld['n']:,}-point class-stratified training subsamples, {draws} draws (mean ± sd)"
                    if draws > 1 else f"all {rld['n']:,} training points (one draw, so no spread)")  # fmt: skip
        out += ["", f"## {section['title']}", ""]
        runs = ", ".join(f"{m} run `{r['id']}` ({r['config']['epochs']:g} epochs, {r['train_seconds']:.0f} s "
                         f"training on {r['device']}, "
                         f"kNN {r['knn_acc']:.3f})" for m, r in section["runs"].items())  # fmt: skip
        out.append(
            f"**Scale:** {section['n_train']:,} training and {section['n_test']:,} test images, "
            f"encoder {section['encoder']}; {runs}. RLD on {rld_text}; "
            f"purity from {sc['purity_queries']:,} queries; probes at label budgets "
            f"{', '.join(f'{b:.0%}' for b in section['budgets'])}, selected on held-out training labels, scored "
            f"on the test split with 95 % bootstrap intervals; GCN {sc['gcn_steps']} steps. "
            f"Analyses took {section['analysis_seconds']:.0f} s."
        )
        out += claims_markdown(section["claims"], measurements_table(section))
    return "\n".join(out + rerun_line(report))
