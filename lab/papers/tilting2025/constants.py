"""Baptista, Stuart & Tran 2025's settings and the lab's choices for reproducing them: one place for each.

[P] the paper's, [D] derived from the paper and checked numerically (../shared/spec/ALGORITHMS.md
section 6), [L] the lab's choice. docs/science.md, "Baptista, Stuart & Tran 2025".
"""

from __future__ import annotations

KEY = "tilting2025"
TITLE = "A Mathematical Perspective On Contrastive Learning"
CITATION = "Baptista, Stuart & Tran 2025 (arXiv 2505.24134)"
CITE = f'{CITATION.split(" (")[0]}, "{TITLE}" ({CITATION.split(" (")[1]}'
CACHE_FOLDER = "_tilting2025"  # <runs>/_tilting2025/<what>-<hash of the settings>.json [L]
CACHE_VERSION = 1  # part of every cache key: bump when a stored number changes meaning

# The losses [P], named by the conditional they match (the paper's text swaps the one-sided pair once).
LOSSES = {
    "two-sided": "two-sided conditional (CLIP / InfoNCE) [P]",
    "u|v": "one-sided, matches u|v [P]",
    "v|u": "one-sided, matches v|u [P]",
    "joint": "joint, all off-diagonal pairs as negatives [P; negatives D]",
}
TILTS = {
    "bilinear": "bilinear tilt s = uᵀAv, A = GᵀH of rank ≤ n_e [P]",
    "quadratic": "quadratic tilt s = uᵀAv − ½uᵀB_u u − ½vᵀB_v v [P; encoders L]",
}

# The 2-D example [D]: C = [[1.5, 1], [1, 1.5]], n_e = 1, canonical correlation 2/3.
EXAMPLE_COV = ((1.5, 1.0), (1.0, 1.5))
EXAMPLE_A_TWO_SIDED = 4 / 9  # bilinear, two-sided: A* = C_uu^{-1/2} M C_vv^{-1/2}
EXAMPLE_MARGINAL_TWO_SIDED = 2.7  # the model's marginal variance of u (true 1.5)
EXAMPLE_A_JOINT = 1 / 3  # bilinear, joint: h(2/3) = 0.5
EXAMPLE_MARGINAL_JOINT = 2.0
EXAMPLE_TRUE_SLOPE = 2 / 3  # truth u|v = N(0.667 v, 0.833)
EXAMPLE_TRUE_VAR = 5 / 6
EXAMPLE_TOLERANCE = 0.02  # "within 2 %" [D]: reached with streaming samples, N ≥ 512

# Training [D]: Adam, cosine learning rate, fresh (streaming) samples (ALGORITHMS.md section 6).
BATCH = 512
STEPS = 1500
LR = 0.03
INIT_SCALE = 0.1  # encoders start at N(0, INIT_SCALE² / d) entries [L]; B starts at 0

# The low-rank demo [D]: w ~ N(0, I_k), u = Pw + ε_u ∈ R^12, v = Qw + ε_v ∈ R^5.
LOW_RANK = {"d_u": 12, "d_v": 5, "rank": 3, "noise": 1.0, "n_e": 3}
N_E_SWEEP = (1, 2, 3, 4, 5, 6)
BATCH_SWEEP = (128, 256, 512, 1024)
SAMPLE_SWEEP = (512, 2048, 8192, None)  # None: streaming (a fresh sample every step)
SWEEP_STEPS = 1500  # every point of a sweep trains as long as a single run [L]

# The image–label demo [P special case, L scale]: Fashion-MNIST, a small MLP image encoder, a
# learned embedding per label.
IMAGE_LOSSES = {
    "label|image": "label|image (= cross-entropy) [P]",
    "image|label": "image|label [P]",
    "two-sided": "two-sided [P]",
}
IMAGE_DIM = 32  # n_e, the embedding size of both encoders [L]
IMAGE_HIDDEN = 256  # the MLP's hidden width [L]
IMAGE_EPOCHS = 3.0
IMAGE_BATCH = 512
IMAGE_LR = 1e-3
IMAGE_POOL = 10_000  # test images the image|label sampler draws from [L]
IMAGE_DRAWS = 16  # images drawn per label with weights e^s [L]
