"""Baptista, Stuart & Tran 2025, "A Mathematical Perspective On Contrastive Learning" (arXiv 2505.24134):
contrastive learning as an exponential tilting of the product of the two marginals by the encoders'
similarity; CLIP as a two-sided conditional loss, cross-entropy as a one-sided one.

The lab trains linear encoders on Gaussian pairs against the paper's closed forms, and compares the
losses on Fashion-MNIST images and labels (docs/science.md, "Baptista, Stuart & Tran 2025").
"""

from lab.papers.paper import Paper, PaperPage, lazy
from lab.papers.tilting2025 import constants, jobs

PAPER = Paper(
    key=constants.KEY,
    title=constants.TITLE,
    citation=constants.CITATION,
    summary="Which conditional each contrastive loss fits, checked against closed forms on Gaussian pairs.",
    pages=(
        PaperPage("pages/tilting2025_theory.py", "Tilting: theory", ":material/functions:"),
        PaperPage("pages/tilting2025_imagelabel.py", "Tilting: image–label", ":material/label:"),
    ),
    reproduce=lazy(
        "lab.papers.tilting2025.reproduce:main"
    ),  # imported when called: the app's start stays light
    job_kinds=jobs.JOB_KINDS,
    bench=lazy("lab.papers.tilting2025.bench:main"),
)
