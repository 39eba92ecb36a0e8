"""Zhang, Lu & Xuan 2023's numbers and the lab's settings for reproducing them: one place for each.

[P] the paper's value or setting, [L] the lab's choice (docs/science.md says why).
"""

from __future__ import annotations

KEY = "zhang2023"
TITLE = "How does Contrastive Learning Organize Images?"
CITATION = "Zhang, Lu & Xuan 2023 (arXiv 2305.10229)"
CITE = f'{CITATION.split(" (")[0]}, "{TITLE}" ({CITATION.split(" (")[1]}'
CODE = "https://github.com/xsgxlz/How-does-Contrastive-Learning-Organize-Images"

ANALYSIS_VERSION = (
    2  # part of every cache path under <run>/analysis/: bump when a stored number changes meaning
)
RLD_TAUS = (1.0, 0.5, 0.2, 0.1)  # the τ selector on image features [P]
REPORT_TAUS = (1.0, 0.2, 0.1)  # the τ values the reproduction reports
REPORT_PS = (1, 10, 100, 1000)  # the purity sizes it reports
RLD_TOY_TAU = 0.05  # the paper's τ for the 2-D toys [P]
RLD_N = 10_000  # class-stratified subsample per draw [L, measured]
RLD_DRAWS = 5
PURITY_PS = (1, 10, 100, 500, 1000)  # the paper's neighbourhood sizes [P]
PURITY_QUERIES = 10_000
POINT_PURITY_P = 10  # per-point purity@10, a heatmap layer [P]
DENSITY_K = 10  # kNN density 1 / mean distance to the 10 nearest [L]
PAIRS_TOP = 100  # cross-class pairs kept per run [L]
LAYERS = {
    "rld": "per-point RLD × n (mean = RLD) [L]",
    "purity": f"purity@{POINT_PURITY_P} [P]",
    "density": f"kNN density 1/mean distance to {DENSITY_K} NN [L]",
}

# What the paper reports [P]
PAPER_PURITY_VIT = {1: 0.873, 10: 0.847, 100: 0.805, 500: 0.667, 1000: 0.527}  # contrastive ViT
PAPER_PURITY_SUPERVISED = 0.99  # supervised ViT, about flat over p
PAPER_TOP_PAIR_CONTRASTIVE = 0.998  # cosine of the most similar cross-class pair
PAPER_TOP_PAIR_SUPERVISED = -0.07  # the same pair under supervised training
PAPER_GCN_SAVED_RUN = (0.857, 0.864)  # GCN vs linear test accuracy in the authors' saved run
