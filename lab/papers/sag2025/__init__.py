"""Simai, Talmon & Shaham 2025, "Enhancing VICReg: Random-Walk Pairing for Improved Generalization and
Better Global Semantics Capturing" (arXiv 2506.18104): positives from random walks on each batch's kNN
graph, beside the two views of an image.

The lab adds VICReg and SAG-VICReg as methods, a kNN-graph page with random walks, the global-structure
scores M1 and M2 (its stand-ins for the paper's metric) and a reproduction (docs/science.md,
"SAG-VICReg" and "Global structure (M1, M2)").
"""

from lab.papers.paper import Paper, PaperPage
from lab.papers.sag2025 import analysis, bench, constants, jobs, methods, reproduce

PAPER = Paper(
    key=constants.KEY,
    title=constants.TITLE,
    citation=constants.CITATION,
    summary="Random walks on a batch's kNN graph give positives beyond augmentation; do they help global structure?",
    pages=(
        PaperPage("pages/sag2025_graph.py", "kNN graph & walks", ":material/hub:"),
        PaperPage("pages/sag2025_structure.py", "Global structure", ":material/account_tree:"),
    ),
    reproduce=reproduce.main,
    job_kinds=jobs.JOB_KINDS,
    methods=(methods.VICREG, methods.SAG_VICREG),
    bench=bench.main,
    run_scores=(analysis.RUN_SCORES,),
)
