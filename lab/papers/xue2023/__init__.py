"""Xue, Joshi, Gan, Chen & Mirzasoleiman 2023, "Which Features are Learnt by Contrastive Learning? On
the Role of Simplicity Bias in Class Collapse and Feature Suppression" (ICML; arXiv 2305.16536):
supervised contrastive learning collapses subclasses, unsupervised contrastive learning suppresses
harder features; embedding size, augmentation and a joint loss counter both.

The lab shows it on linear toys and on Fashion-MNIST relabelled into coarse classes or carrying a
random digit (docs/science.md, "Xue 2023").
"""

from lab.papers.paper import Paper, PaperPage, lazy
from lab.papers.xue2023 import constants, datasets, jobs, toy_jobs

PAPER = Paper(
    key=constants.KEY,
    title=constants.TITLE,
    citation=constants.CITATION,
    summary="Supervised contrastive learning collapses subclasses; unsupervised suppresses harder features.",
    pages=(
        PaperPage("pages/xue2023_toys.py", "Simplicity bias: linear toys", ":material/scatter_plot:"),
        PaperPage("pages/xue2023_methods.py", "Methods side by side", ":material/stacked_bar_chart:"),
    ),
    reproduce=lazy("lab.papers.xue2023.reproduce:main"),
    bench=lazy("lab.papers.xue2023.bench:main"),
    job_kinds=jobs.JOB_KINDS + toy_jobs.TOY_JOB_KINDS,
    datasets=datasets.DATASETS,
)
