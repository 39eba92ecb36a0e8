"""Xue, Joshi, Gan, Chen & Mirzasoleiman 2023's setting as the lab reproduces it: one place for each fact.

[P] the paper's claim or setting, [L] the lab's adaptation (docs/science.md, "Xue 2023").
"""

from __future__ import annotations

KEY = "xue2023"
TITLE = ("Which Features are Learnt by Contrastive Learning? On the Role of Simplicity Bias in Class Collapse "
         "and Feature Suppression")  # fmt: skip
CITATION = "Xue, Joshi, Gan, Chen & Mirzasoleiman 2023 (ICML; arXiv 2305.16536)"
CITE = f'{CITATION.split(" (")[0]}, "{TITLE}" ({CITATION.split(" (")[1]}'
ANALYSIS_VERSION = 1  # part of the cache paths under <run>/analysis/

# CC-FMNIST [L, adapted from the paper's CIFAR-100 coarse/fine]: 5 coarse classes of 2 Fashion-MNIST classes
COARSE_OF_FASHION = {0: 0, 6: 0, 2: 1, 4: 1, 1: 2, 3: 2, 5: 3, 7: 3, 8: 4, 9: 4}
COARSE_CLASSES = (
    "T-shirt/top + Shirt",
    "Pullover + Coat",
    "Trouser + Dress",
    "Sandal + Sneaker",
    "Bag + Ankle boot",
)
DIGIT_BLEND = 0.5  # img = g (1 - m) + m (0.5 g + 0.5 digit), m the digit's intensity [L]

SNAPSHOTS = 8  # snapshots of a run trained for the subclass curves [L]
COMPARED_METHODS = ("supervised", "supcon", "simclr", "joint")  # trained side by side [P]
