"""The Markdown report of `python -m lab reproduce sag2025` (docs/reproduce/sag2025.md).

Every number comes from the report's JSON, which lab.papers.sag2025.reproduce computed; the verdict rules
are lab.papers.sag2025.claims.
"""

from __future__ import annotations

from lab.measures.probes.knn import KNN_K
from lab.papers.reports import claims_markdown, provenance_markdown, rerun_line
from lab.papers.sag2025.constants import CITE, VICREG_CITE


def _f(value) -> str:
    return "—" if value is None else f"{value:.3f}"


ROWS = (
    (f"kNN accuracy (k = {KNN_K}), test", lambda m: _f(m["knn_acc"])),
    ("linear probe, test", lambda m: _f(m["linear_acc"])),
    ("M1 Spearman [L]", lambda m: _f((m["m1"] or {}).get("spearman"))),
    ("M1 Kendall τ-b [L]", lambda m: _f((m["m1"] or {}).get("kendall"))),
    ("M1 AUC (within closer than across) [L]", lambda m: _f((m["m1"] or {}).get("auc"))),
    ("M1 cophenetic correlation [L]", lambda m: _f((m["m1"] or {}).get("cophenetic"))),
    ("M2, label-free (sanity check only) [L]", lambda m: _f(m["m2"]["spearman"])),
    ("walk precision, run mean [L]", lambda m: _f(m.get("walk_precision"))),
    ("walks returning to their start", lambda m: _f(m.get("walk_returns"))),
)


def measurements_table(section: dict) -> list[str]:
    ms = section["measures"]
    order = [ms["vicreg"], ms["sag-vicreg"], ms["pixels"]]
    lines = ["| Measure | VICReg | SAG-VICReg | pixels (PCA-64) |", "|---|---|---|---|"]
    return lines + [f"| {name} | " + " | ".join(fmt(m) for m in order) + " |" for name, fmt in ROWS]


def render_markdown(report: dict) -> str:
    """The report as Markdown (what docs/reproduce/sag2025.md holds and the app shows)."""
    out = [
        f"# Reproduction: {CITE}",
        "",
        f"Built on VICReg ({VICREG_CITE}). No code was published; the walk's details are the lab's reading "
        '(docs/science.md, "SAG-VICReg"). The paper scores global semantics with a label-free spectral metric we '
        'could not read; M1 and M2 are the lab\'s stand-ins (docs/science.md, "Global structure (M1, M2)"). '
        "[P] = the paper's, [L] = the lab's design.",
        "",
        *provenance_markdown(report, "sag2025"),
    ]
    for section in report["datasets"]:
        w = section["walk"]
        runs = ", ".join(f"{m} run `{r['id']}` ({r['config']['epochs']:g} epochs at batch {r['config']['batch_size']}, "
                         f"{r['train_seconds']:.0f} s training on {r['device']})" for m, r in section["runs"].items())  # fmt: skip
        out += ["", f"## {section['dataset']}" + (" (quick)" if report["quick"] else ""), ""]
        out.append(
            f"**Scale:** {section['n_train']:,} training and {section['n_test']:,} test images, encoder "
            f"{section['encoder']}, 3-layer expander 512 wide; {runs}. Walks: k = {w['sag_k']}, t = {w['sag_t']}, "
            f"ω = {w['sag_omega']:g} after the warm-up, endpoint {w['sag_endpoint']}. M1 and M2 on the test split; "
            f"superclass tree: {section['measures']['vicreg']['tree']}. Analyses took {section['analysis_seconds']:.0f} s."
        )
        out += claims_markdown(section["claims"], measurements_table(section))
    return "\n".join(out + rerun_line(report))
