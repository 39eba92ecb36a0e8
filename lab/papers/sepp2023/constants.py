"""SePP's settings and the lab's choices for reproducing it: one place for each.

Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122). [P] the paper's idea or value, [L] the lab's choice
(docs/science.md, "SePP" says why).
"""

from __future__ import annotations

KEY = "sepp2023"
TITLE = (
    "Semantic Positive Pairs for Enhancing Visual Representation Learning of Instance Discrimination Methods"
)
CITATION = "Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122)"
CITE = f'{CITATION.split(" (")[0]}, "{TITLE}" ({CITATION.split(" (")[1]}'
PAPER_GAIN = (
    "+4.1 points of linear accuracy over MoCo-v2 on ImageNet, 800 epochs"  # [P], what the paper reports
)

# Where partners come from [L]. A learned sampler is the stored run of that method with this run's other
# settings (same images, epochs, batch), or any stored run of the dataset named by its id ("run"): its
# backbone features of the un-augmented training images.
LEARNED_SAMPLERS = ("simclr", "vicreg")
RUN_SAMPLER = "run"
SAMPLERS = ("pixels", "untrained", *LEARNED_SAMPLERS, RUN_SAMPLER, "oracle", "random")
SAMPLER_TEXT = {
    "pixels": "PCA-64 of the raw pixels",
    "untrained": "an untrained encoder of the same architecture (seeded)",
    "simclr": "the stored SimCLR run with this run's other settings",
    "vicreg": "the stored VICReg run with this run's other settings",
    RUN_SAMPLER: "any stored run of the same dataset, named by its id (sepp_sampler_run)",
    "oracle": "a random other image of the same class (uses labels: an upper bound, never a method)",
    "random": "a random other image (a lower bound)",
}
PARTNERS_K = 5  # top-k cosine partners per image [L]
MODES = ("add", "replace")  # a third, semantic view beside the twin; or the twin replaced half the time [L]
REPLACE_SHARE = 0.5  # share of anchors with a partner whose twin is replaced in "replace" mode [L]
PAIRS_LOGGED = 64  # (anchor, partner) pairs a run keeps for the page
