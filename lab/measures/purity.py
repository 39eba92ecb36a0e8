"""Class purity of neighbourhoods and cross-class nearest pairs.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229);
definitions in docs/science.md, "Class homogeneity" and "Cross-class pairs". Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lab.measures.features import check_features, l2_normalize, stratified_subsample
from lab.measures.neighbours import knn_search


def class_purity(
    neighbors: np.ndarray, labels: np.ndarray, query_rows: np.ndarray | None = None
) -> np.ndarray:
    """Share of each query point's neighbours that share its class (kNN class purity).

    Zhang, Lu & Xuan 2023, Sec. 3 "class homogeneity" [P]. neighbors: [Nq, k] indices into
    labels from a search that excludes the point itself; query_rows: [Nq] the queries' own rows
    (default: all rows, Nq = N). Returns [Nq] values in [0, 1].
    """
    labels = np.asarray(labels)
    own = labels if query_rows is None else labels[np.asarray(query_rows)]
    return (labels[neighbors] == own[:, None]).mean(axis=1)


@dataclass(frozen=True)
class PurityCurve:
    """kNN class purity at several neighbourhood sizes p."""

    ps: np.ndarray  # [P]
    overall: np.ndarray  # [P] mean over queries
    per_class: np.ndarray  # [C, P] mean over the queries of each class
    classes: np.ndarray  # [C] class ids, rows of per_class
    n_queries: int


def purity_curve(
    x: np.ndarray,
    labels: np.ndarray,
    ps: tuple[int, ...] = (1, 10, 100, 500, 1000),
    n_queries: int = 10_000,
    seed: int = 0,
) -> PurityCurve:
    """Class purity of the top-p cosine neighbours (self excluded) for each p in ps.

    Zhang, Lu & Xuan 2023, Sec. 3 [P] (paper's ViT: contrastive .873/.847/.805/.667/.527).
    One faiss search at max(ps) for a class-stratified subsample of n_queries points against
    all points [L]. x: [N, d]; labels: [N].
    """
    x = check_features(x, labels)
    labels = np.asarray(labels)
    ps = np.asarray(sorted(ps), dtype=int)
    if ps[0] < 1:
        raise ValueError(f"neighbourhood sizes must be >= 1; got {ps.tolist()}.")
    rows = stratified_subsample(labels, n_queries, seed=seed)
    _, idx = knn_search(x, int(ps[-1]), query_rows=rows)
    hits = np.cumsum(labels[idx] == labels[rows][:, None], axis=1)
    purity = hits[:, ps - 1] / ps  # [Nq, P]
    classes = np.unique(labels[rows])  # a class too rare to get a query has no row, never a NaN
    per_class = np.stack([purity[labels[rows] == c].mean(0) for c in classes])
    return PurityCurve(ps, purity.mean(0), per_class, classes, len(rows))


@dataclass(frozen=True)
class CrossClassPairs:
    """The most similar pairs of points with different labels, best first."""

    i: np.ndarray  # [P] row of the first point (i < j)
    j: np.ndarray  # [P]
    cosine: np.ndarray  # [P] cosine in x, descending
    cosine_other: np.ndarray | None  # [P] the same pairs' cosine in x_other, if given


def cross_class_pairs(
    x: np.ndarray,
    labels: np.ndarray,
    k: int = 50,
    top: int = 100,
    x_other: np.ndarray | None = None,
    neighbors: tuple[np.ndarray, np.ndarray] | None = None,
) -> CrossClassPairs:
    """Globally ranked most-similar pairs whose labels differ.

    Zhang, Lu & Xuan 2023, Sec. 3 [P] (paper: all-pairs cosine, contrastive top pair 0.998 vs
    supervised -0.07). Lab [L]: faiss top-k per point, keep different-label pairs, merge (i,j)
    and (j,i), rank by cosine. x: [N, d]; labels: [N]; x_other: [N, d] a second run's features
    for the same rows, whose cosines for the same pairs are returned beside. neighbors: an
    existing (sims, idx) [N, >=k] from knn_search(x, k) to reuse instead of searching again.
    """
    x = check_features(x, labels)
    labels = np.asarray(labels)
    sims, idx = knn_search(x, k) if neighbors is None else (neighbors[0][:, :k], neighbors[1][:, :k])
    if idx.shape != (len(x), k):
        raise ValueError(f"neighbors must hold k={k} columns for all {len(x)} rows; got {idx.shape}.")
    src = np.repeat(np.arange(len(x)), k)
    dst, cos = idx.ravel(), sims.ravel()
    cross = labels[src] != labels[dst]
    a, b, cos = np.minimum(src, dst)[cross], np.maximum(src, dst)[cross], cos[cross]
    order = np.lexsort((b, a, -cos))  # best cosine first, ties by (i, j)
    a, b, cos = a[order], b[order], cos[order]
    _, first = np.unique(a.astype(np.int64) * len(x) + b, return_index=True)
    first = np.sort(first)[:top]
    a, b, cos = a[first], b[first], cos[first]
    other = None
    if x_other is not None:
        xo = check_features(x_other, name="x_other")
        if len(xo) != len(x):
            raise ValueError(
                f"x_other has {len(xo)} rows but x has {len(x)}; pass features of the same images."
            )
        xo = l2_normalize(xo)
        other = (xo[a] * xo[b]).sum(1)
    return CrossClassPairs(a, b, cos, other)


def cross_class_share(neighbour_rows: np.ndarray, labels: np.ndarray, rows: np.ndarray | None = None):
    """Share of each query's neighbours whose class differs from the query's: 1 - kNN class purity.

    neighbour_rows: [Nq, k] (or [k] for one query) rows from a search that excludes the query
    itself; labels: [N]; rows: [Nq] the queries' own rows (default: all rows, Nq = N).
    Returns [Nq] values in [0, 1] (a float for a single [k] query).
    """
    labels = np.asarray(labels)
    nb = np.asarray(neighbour_rows)
    if nb.ndim == 1:
        return float(1.0 - class_purity(nb[None, :], labels, np.atleast_1d(rows))[0])
    return 1.0 - class_purity(nb, labels, rows)


def pair_cosines(x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cosine similarity of the given row pairs in features x [N, d] (e.g. a second run's). Returns [P]."""
    a, b = l2_normalize(x[i]), l2_normalize(x[j])
    return (a * b).sum(1)
