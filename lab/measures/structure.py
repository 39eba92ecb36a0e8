"""Global structure of a representation: does it place related classes near each other?

The lab's stand-ins [L] for the global-semantics score of Simai, Talmon & Shaham 2025 (arXiv 2506.18104),
whose spectral construction we could not read; docs/science.md, "Global structure (M1, M2)".

- M1, label-based: class centroids against a superclass tree (Spearman, Kendall tau-b, AUC, cophenetic).
- M2, label-free: cluster geometry in the embedding against the same clusters in a diffusion map. Shown
  as a sanity check only: in the spec's measurements it did not track quality.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.cluster.hierarchy import cophenet, linkage
from scipy.spatial.distance import pdist, squareform
from scipy.stats import kendalltau, pearsonr, spearmanr

from lab.measures.features import check_features, l2_normalize
from lab.measures.graphs import gaussian_knn_kernel


def tree_distances(groups: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """D_ref [C, C] of a two-level tree: 0 on the diagonal, 1 within a superclass, 2 across.
    groups: the superclasses, each a tuple of class ids; together they hold 0..C-1 once each."""
    flat = sorted(c for g in groups for c in g)
    if flat != list(range(len(flat))):
        raise ValueError(f"the superclass tree must hold each class 0..{len(flat) - 1} once; got {groups}.")
    group_of = np.empty(len(flat), dtype=np.int64)
    for gi, g in enumerate(groups):
        group_of[list(g)] = gi
    d = np.where(group_of[:, None] == group_of[None, :], 1.0, 2.0)
    np.fill_diagonal(d, 0.0)
    return d


def centroid_distances(x: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """D_emb [C, C] = 1 - cos between the class centroids of the L2-normalised rows of x [N, d]."""
    x = l2_normalize(check_features(x, labels))
    labels = np.asarray(labels)
    missing = sorted(set(range(n_classes)) - set(np.unique(labels).tolist()))
    if missing:
        raise ValueError(f"classes {missing} have no rows here; every class of the tree needs some.")
    cent = np.stack([x[labels == c].mean(0) for c in range(n_classes)]).astype(np.float64)
    cent /= np.linalg.norm(cent, axis=1, keepdims=True)
    d = 1.0 - cent @ cent.T
    np.fill_diagonal(d, 0.0)
    return np.clip(d, 0.0, 2.0)


@dataclass(frozen=True)
class M1Score:
    """M1 [L]: agreement of class-centroid distances with the superclass tree (NaN where undefined, e.g.
    a tree whose pairs are all across superclasses)."""

    spearman: float  # rank correlation over class pairs
    kendall: float  # Kendall tau-b over class pairs
    auc: float  # P(a within-superclass pair is closer than an across pair), ties half
    cophenetic: float  # Pearson of the average-linkage dendrogram's cophenetic distances with the tree
    pairs: int  # class pairs


def m1_structure(x: np.ndarray, labels: np.ndarray, groups: tuple[tuple[int, ...], ...]) -> M1Score:
    """M1 [L] of features x [N, d] with labels [N] against the superclass tree `groups`.

    With a two-level tree the rank correlations reduce to the AUC and are coarse; the cophenetic
    correlation is the graded one. Every score is 1 when centroids sit exactly as the tree says.
    """
    ref = tree_distances(groups)
    emb = centroid_distances(x, labels, len(ref))
    iu = np.triu_indices(len(ref), k=1)  # the condensed order of scipy's squareform
    a, b = emb[iu], ref[iu]
    if len(np.unique(b)) < 2 or len(np.unique(a)) < 2:
        return M1Score(float("nan"), float("nan"), float("nan"), float("nan"), len(a))
    within, across = a[b == 1], a[b == 2]
    auc = float(((within[:, None] < across[None, :]) + 0.5 * (within[:, None] == across[None, :])).mean())
    coph = cophenet(linkage(squareform(emb, checks=False), method="average"))
    return M1Score(float(spearmanr(a, b).statistic), float(kendalltau(a, b).statistic), auc,
                   float(pearsonr(coph, b).statistic), len(a))  # fmt: skip


@dataclass(frozen=True)
class M2Score:
    """M2 [L], label-free: Spearman between cluster-centroid distances in the embedding and the same
    clusters' distances in a diffusion map. A sanity check, not a quality score."""

    spearman: float
    points: int
    clusters: int
    eigenvectors: int


def diffusion_map(x: np.ndarray, k: int = 10, n_eig: int = 10) -> np.ndarray:
    """Psi [n, n_eig]: the top non-trivial right eigenvectors of P = D^-1 W, scaled by their eigenvalues,
    W the SAG kernel of x (lab.measures.graphs.gaussian_knn_kernel)."""
    w = gaussian_knn_kernel(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), k).double().numpy()
    d = w.sum(1)
    vals, vecs = np.linalg.eigh(w / np.sqrt(d[:, None] * d[None, :]))  # symmetric, same spectrum as P
    order = np.argsort(-vals)[1 : n_eig + 1]  # the first is the trivial constant one
    return (vecs[:, order] / np.sqrt(d)[:, None]) * vals[order]


def m2_structure(x: np.ndarray, m: int = 2000, k: int = 10, n_eig: int = 10, clusters: int = 50,
                 seed: int = 0) -> M2Score:  # fmt: skip
    """M2 [L] of features x [N, d]: m seeded rows (all when fewer), k-means into `clusters` on the
    normalised rows, Spearman over cluster pairs between centroid distances and diffusion-map distances."""
    from sklearn.cluster import KMeans

    x = l2_normalize(check_features(x))
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(x), m, replace=False)) if len(x) > m else np.arange(len(x))
    x = x[rows]
    clusters = min(clusters, len(x) // 2)
    if clusters < 3 or k > len(x) - 1:
        raise ValueError(f"M2 needs at least 6 points and more than k = {k}; got {len(x)}.")
    psi = diffusion_map(x, k, n_eig)
    assign = KMeans(clusters, n_init=3, random_state=seed).fit_predict(x)
    used = np.unique(assign)
    emb = pdist(np.stack([x[assign == c].mean(0) for c in used]))
    dif = pdist(np.stack([psi[assign == c].mean(0) for c in used]))
    return M2Score(float(spearmanr(emb, dif).statistic), len(x), len(used), psi.shape[1])
