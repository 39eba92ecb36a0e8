"""The Markdown report of `python -m lab reproduce sepp2023` (docs/reproduce/sepp2023.md).

Every number comes from the report's JSON, which lab.papers.sepp2023.reproduce computed; the verdict rules
are lab.papers.sepp2023.claims.
"""

from __future__ import annotations

from lab.measures.probes.knn import KNN_K
from lab.papers.reports import claims_markdown, provenance_markdown, rerun_line
from lab.papers.sepp2023.constants import CITE, SAMPLER_TEXT

COLUMNS = (("simclr", "SimCLR"), ("sepp-learned", "SePP, SimCLR-mined"), ("sepp-pixels", "SePP, pixel-mined"),
           ("sepp-oracle", "SePP, oracle (bound)"), ("sepp-random", "SePP, random (bound)"),
           ("pixels", "pixels (PCA-64)"))  # fmt: skip


def _f(value, fmt: str = ".3f") -> str:
    return "—" if value is None else f"{value:{fmt}}"


ROWS = (
    (f"kNN accuracy (k = {KNN_K}), test", "knn_acc", ".3f"),
    ("linear probe, test", "linear_acc", ".3f"),
    ("pair precision (display only) [L]", "pair_precision", ".3f"),
    ("coverage (images with a partner)", "coverage", ".3f"),
    ("mean partners per image", "mean_partners", ".2f"),
    ("sampler features, s", "features_seconds", ".1f"),
    ("mining, s", "mining_seconds", ".1f"),
    ("training, s", "train_seconds", ".0f"),
)


def measurements_table(section: dict) -> list[str]:
    ms = section["measures"]
    lines = [
        "| Measure | " + " | ".join(name for _, name in COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
    ]
    return lines + [f"| {label} | " + " | ".join(_f(ms[key].get(field), fmt) for key, _ in COLUMNS) + " |"
                    for label, field, fmt in ROWS]  # fmt: skip


def render_markdown(report: dict) -> str:
    """The report as Markdown (what docs/reproduce/sepp2023.md holds and the app shows)."""
    out = [
        f"# Reproduction: {CITE}",
        "",
        "Partners are mined once from the un-augmented training images; a view of a random partner is a "
        'third positive beside the twin (docs/science.md, "SePP"). Samplers: '
        + "; ".join(f"{k}: {v}" for k, v in SAMPLER_TEXT.items() if k != "vicreg")
        + ". "
        "[P] = the paper's, [L] = the lab's design.",
        "",
        *provenance_markdown(report, "sepp2023"),
    ]
    for section in report["datasets"]:
        p, ms = section["partners"], section["measures"]
        runs = ", ".join(f"{name} `{ms[key]['id']}`" for key, name in COLUMNS if "id" in ms[key])
        out += ["", f"## {section['dataset']}" + (" (quick)" if report["quick"] else ""), ""]
        out.append(
            f"**Scale:** {section['n_train']:,} training and {section['n_test']:,} test images, encoder "
            f"{section['encoder']}, {ms['simclr']['epochs']:g} epochs on {ms['simclr']['device']}; runs: {runs}. "
            f"Partners: k = {p['sepp_k']}, threshold quantile {p['sepp_quantile']:g}, mutual {p['sepp_mutual']}, "
            f"mode {p['sepp_mode']}, β = {p['sepp_beta']:g}."
        )
        out += claims_markdown(section["claims"], measurements_table(section))
    return "\n".join(out + rerun_line(report))
