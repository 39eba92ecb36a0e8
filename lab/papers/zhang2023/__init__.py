"""Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229):
contrastive learning organises images by local visual similarity rather than by class.

The lab measures it with Relative Local Density, class purity of neighbourhoods, cross-class
nearest pairs and a GCN probe on the similarity graph (docs/science.md, section "Zhang 2023").
"""

from lab.papers.paper import Paper, PaperPage, lazy
from lab.papers.zhang2023 import constants, jobs

PAPER = Paper(
    key=constants.KEY,
    title=constants.TITLE,
    citation=constants.CITATION,
    summary="Contrastive features are locally dense and locally pure, but not organised by class.",
    pages=(
        PaperPage("pages/zhang2023_density.py", "Density", ":material/blur_on:"),
        PaperPage("pages/zhang2023_probes.py", "Probes", ":material/insights:"),
    ),
    reproduce=lazy("lab.papers.zhang2023.reproduce:main"),
    job_kinds=jobs.JOB_KINDS,
)
