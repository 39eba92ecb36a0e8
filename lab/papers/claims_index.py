"""The five papers the lab reproduces and their claims, one sentence each: the paper-claims page's index.

One place for what the claims page shows before a paper has been measured (or even registered): its
title, citation and claim sentences, from ../shared/spec/ALGORITHMS.md and the issues that implement
each paper. Measured numbers and verdicts never live here: they come from each paper's stored report
(docs/reproduce/<key>.json, lab.papers.reports), written by its `reproduce` command. A paper package
may take its claim sentences from here (claim_sentence), so each is written once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IndexedClaim:
    id: str  # short and stable within its paper, e.g. "C1"
    sentence: str


@dataclass(frozen=True)
class IndexedPaper:
    key: str  # the package's folder name under lab/papers/
    title: str
    citation: str
    claims: tuple[IndexedClaim, ...]

    @property
    def command(self) -> str:
        return f"python -m lab reproduce {self.key}"


def _claims(*sentences: str) -> tuple[IndexedClaim, ...]:
    return tuple(IndexedClaim(f"C{i}", s) for i, s in enumerate(sentences, start=1))


INDEX = (
    IndexedPaper("zhang2023", "How does Contrastive Learning Organize Images?",
                 "Zhang, Lu & Xuan 2023 (arXiv 2305.10229)", _claims(
        "Supervised clusters are globally dense; contrastive ones are not (CHS).",
        "Contrastive clusters stay locally dense: RLD stays high where CHS collapses.",
        "Contrastive neighbourhoods are pure locally, mixed globally (class purity falls with the neighbourhood size).",
        "Contrastive learning places near-identical images of different classes together.",
        "A GCN on the RLD graph classifies contrastive features better than a linear probe.",
    )),
    IndexedPaper("xue2023", "Which Features are Learnt by Contrastive Learning? On the Role of Simplicity Bias "
                 "in Class Collapse and Feature Suppression",
                 "Xue, Joshi, Gan, Chen & Mirzasoleiman, ICML 2023 (arXiv 2305.16536)", _claims(
        "Supervised contrastive learning's minimum-norm minimiser collapses subclasses (class collapse).",
        "Trained with (S)GD, subclass features are learned early and unlearned later.",
        "Unsupervised contrastive learning with a small embedding keeps only the easiest features; a larger "
        "embedding fixes it (feature suppression).",
        "When augmentation preserves high-dimensional easy features, suppression persists at any embedding "
        "size; better augmentation fixes it.",
        "The joint (supervised + unsupervised) loss avoids both class collapse and feature suppression.",
    )),
    IndexedPaper("sepp2023", "Semantic Positive Pairs for Enhancing Visual Representation Learning of Instance "
                 "Discrimination Methods", "Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122)", _claims(
        "Semantic positive pairs mined by a self-supervised sampler improve instance discrimination over "
        "augmentation-only positives (+4.1 % over MoCo-v2 on ImageNet).",
        "The gain follows the quality of the mined pairs: between random pairs and same-class (oracle) pairs.",
    )),
    IndexedPaper("sag2025", "Enhancing VICReg: Random-Walk Pairing for Improved Generalization and Better Global "
                 "Semantics Capturing", "Simai, Talmon & Shaham 2025 (arXiv 2506.18104)", _claims(
        "Random-walk positives (SAG-VICReg) generalise better than VICReg's augmentation-only positives.",
        "SAG-VICReg captures global semantics better than VICReg (rank correlation with the class structure).",
    )),
    IndexedPaper("tilting2025", "A Mathematical Perspective On Contrastive Learning",
                 "Baptista, Stuart & Tran 2025 (arXiv 2505.24134)", _claims(
        "With a bilinear tilt, the two-sided (CLIP) loss matches the conditional means exactly but gives the "
        "marginal spread: too wide.",
        "The joint loss shrinks each canonical correlation σ to h(σ) = (√(1+4σ²) − 1)/(2σ), and the conditional "
        "means with it.",
        "A quadratic tilt trained with the one-sided u|v loss matches u|v exactly, mean and covariance.",
        "Linear encoders of rank n_e recover the top n_e canonical directions, and the conditional means "
        "exactly once n_e reaches the shared rank.",
        "Minibatch losses bias the minimiser: the learned canonical spectrum overshoots, less as the batch grows.",
        "The two-sided conditional loss never exceeds the joint loss.",
        "The batch CLIP loss equals the two-sided conditional loss plus log N, up to sampling error.",
        "Cross-entropy (the label|image loss) gives the sharpest label probabilities.",
        "Images drawn for a label with weights e^s are diverse under the two-sided loss and collapse under "
        "label|image.",
    )),
)  # fmt: skip
BY_KEY = {p.key: p for p in INDEX}


def claim_sentence(key: str, claim_id: str) -> str:
    """The one sentence of a paper's claim, e.g. claim_sentence("tilting2025", "C1")."""
    return next(c.sentence for c in BY_KEY[key].claims if c.id == claim_id)
