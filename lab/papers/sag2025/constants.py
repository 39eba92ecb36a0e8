"""SAG-VICReg's settings and the lab's choices for reproducing it: one place for each.

Simai, Talmon & Shaham 2025 (arXiv 2506.18104; no code published). [P] the paper's idea or value,
[L] the lab's choice (docs/science.md, "SAG-VICReg" and "Global structure (M1, M2)", says why).
"""

from __future__ import annotations

KEY = "sag2025"
TITLE = (
    "Enhancing VICReg: Random-Walk Pairing for Improved Generalization and Better Global Semantics Capturing"
)
CITATION = "Simai, Talmon & Shaham 2025 (arXiv 2506.18104)"
CITE = f'{CITATION.split(" (")[0]}, "{TITLE}" ({CITATION.split(" (")[1]}'
VICREG_CITE = "Bardes, Ponce & LeCun 2022 (arXiv 2105.04906)"

ANALYSIS_VERSION = (
    1  # part of every cache path under <run>/analysis/: bump when a stored number changes meaning
)

# the random-walk positives (spec 1) [P idea, L details]
WALK_K = 5  # neighbours per point in the batch graph [L]
WALK_T = 2  # walk steps [L]
OMEGA = 0.5  # weight of the random-walk invariance after the warm-up [L]
OMEGA_OFF = 0.1  # share of the steps with omega = 0 [L]
OMEGA_RAMP = 0.1  # share of the steps over which omega then ramps linearly to its value [L]
ENDPOINTS = ("sample", "expected")  # an endpoint drawn from P^t, or the P^t-weighted invariance
SAG_BATCH = 512  # batch of the reproduction's SAG and VICReg runs [L]
WALKS_LOGGED = 512  # walks of the last batch a run keeps for the graph page (all of a 512 batch)

# the kNN-graph page [L]
GRAPH_K = 10  # out-edges per node of the drawn neighbourhood (from the run's exact kNN table)
GRAPH_NODES = 300  # nodes of the drawn neighbourhood (the slider goes to 500)
GRAPH_WALKS = 20  # walks drawn at once

# global structure (spec 5) [L]
M2_POINTS, M2_K, M2_EIGENVECTORS, M2_CLUSTERS = 2000, 10, 10, 50

# Superclass trees for M1, by dataset: class ids grouped. Fashion-MNIST, CIFAR-10: the spec's [L];
# MNIST and digits: the lab's grouping by stroke shape [L], a smoke check rather than semantics.
TREES = {
    "fashion-mnist": ((0, 2, 4, 6), (1, 3), (5, 7, 9), (8,)),  # tops; trouser, dress; footwear; bag
    "cifar10": ((0, 1, 8, 9), (2, 3, 4, 5, 6, 7)),  # vehicles; animals
    "mnist": ((0, 6, 8, 9), (1, 4, 7), (2, 3, 5)),  # closed loops; straight strokes; open curves
    "digits": ((0, 6, 8, 9), (1, 4, 7), (2, 3, 5)),
}
TREE_NOTES = {
    "fashion-mnist": "tops {T-shirt, Pullover, Coat, Shirt}, {Trouser, Dress}, footwear {Sandal, Sneaker, Ankle boot}, {Bag} [L, spec 5]",
    "cifar10": "vehicles vs animals [L, spec 5]",
    "mnist": "the lab's shape groups {0, 6, 8, 9}, {1, 4, 7}, {2, 3, 5}: a smoke check, not semantics [L]",
    "digits": "the lab's shape groups {0, 6, 8, 9}, {1, 4, 7}, {2, 3, 5}: a smoke check, not semantics [L]",
}
