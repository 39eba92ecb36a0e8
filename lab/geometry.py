"""How a representation organises its images: densities, class purity and cross-class pairs.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229),
Sec. 3 of spec/ALGORITHMS.md. Pure functions on numpy arrays: features `x` are float [N, d],
labels are integer class ids [N]. Every neighbour search goes through `knn_search` (faiss).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import faiss
import numpy as np
import torch


# ---------------------------------------------------------------- input checks and helpers
def check_features(x: np.ndarray, labels: np.ndarray | None = None, name: str = "x") -> np.ndarray:
    """Validate features [N, d] (and labels [N]); return x as a float32 C-contiguous array."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array [N, d]; got shape {x.shape}.")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{name} must be numeric; got dtype {x.dtype}.")
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=1).sum())
        raise ValueError(f"{name} has {bad} rows with NaN or inf; remove or repair them first.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],):
            raise ValueError(
                f"labels must be 1-D with one entry per row of {name}: {name} has {x.shape[0]} rows, "
                f"labels have shape {labels.shape}."
            )
        if len(np.unique(labels)) < 2:
            raise ValueError("labels contain a single class; these scores need at least two classes.")
    return np.ascontiguousarray(x, dtype=np.float32)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with n torch threads, then restore: small tensor work is 4x faster on one
    thread here when the other core is busy (measured; see NOTES.md "Speed")."""
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextmanager
def faiss_threads(n: int | None) -> Iterator[None]:
    """Run a block with n faiss (OpenMP) threads (None: one per core), then restore the previous count."""
    old = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, n if n is not None else os.cpu_count() or 1))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(old)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of x [N, d] scaled to unit length (float32 copy); zero rows are an error."""
    x = np.array(x, dtype=np.float32, copy=True)
    norms = np.linalg.norm(x, axis=1)
    if (norms == 0).any():
        raise ValueError(f"{int((norms == 0).sum())} feature rows are all zero and cannot be normalised.")
    x /= norms[:, None]
    return x


def stratified_subsample(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices of a class-proportional random subsample of n points (all if n >= N)."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n / len(labels)
    take = np.floor(quota).astype(int)
    extra = np.argsort(-(quota - take), kind="stable")[: n - take.sum()]  # largest remainders
    take[extra] += 1
    picked = [
        rng.choice(np.flatnonzero(labels == c), t, replace=False) for c, t in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def mean_pairwise_distance(x: np.ndarray, n_pairs: int = 200_000, seed: int = 0) -> float:
    """Mean Euclidean distance over pairs i != j: exact when N(N-1)/2 <= n_pairs, else seeded sample."""
    n = len(x)
    x64 = x.astype(np.float64)
    if n * (n - 1) // 2 <= n_pairs:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, n_pairs)
        j = (i + rng.integers(1, n, n_pairs)) % n  # uniform over ordered pairs with i != j
    return float(np.linalg.norm(x64[i] - x64[j], axis=1).mean())


# ---------------------------------------------------------------- Relative Local Density
@dataclass(frozen=True)
class RLD:
    """Relative Local Density of one labelled point set (see relative_local_density)."""

    value: float  # the modularity score, about [-0.5, 1)
    tau: float
    n: int
    mean_distance: float  # the scale s_ij is divided by
    per_point: np.ndarray | None = None  # [N] q_i, sums to value (only when asked for)


def relative_local_density(
    x: np.ndarray,
    labels: np.ndarray,
    tau: float,
    block: int = 2048,
    seed: int = 0,
    per_point: bool = False,
    normalize: bool = True,
) -> RLD:
    """Relative Local Density: weighted Newman modularity of the mutual-neighbour graph W.

    Zhang, Lu & Xuan 2023, Sec. 3 [P]: d_ij Euclidean (on unit-length features when normalize),
    s_ij = -d_ij / mean_{k<l} d_kl, P(j|i) = softmax_j(s_ij / tau) without self loops,
    W_ij = P(j|i) P(i|j), RLD = (1/2m) sum_ij [W_ij - k_i k_j / 2m] 1[y_i = y_j].
    Exact, in two blocked passes [L, measured]: pass 1 the row log-sum-exps lse_i of s/tau,
    pass 2 W_ij = exp(2 s_ij/tau - lse_i - lse_j) in row blocks -> k_i and same-class sums;
    RLD = same/2m - sum_c (K_c/2m)^2. O(N^2 d) time, O(N * block) memory, never N x N.
    The mean distance is exact for N(N-1)/2 <= 200k pairs, else estimated from 200k seeded pairs.
    normalize=False is for the 2-D toys, where the paper uses raw coordinates.
    per_point=True adds q_i = (1/2m) sum_j [W_ij - k_i k_j/2m] 1[y_i=y_j] [L, our extension].
    x: [N, d] features; labels: [N] class ids. Example: relative_local_density(h, y, 0.2).value
    """
    x = check_features(x, labels)
    if not tau > 0:
        raise ValueError(f"tau must be > 0; got {tau}. Typical values: 1, 0.5, 0.2, 0.1 (0.05 for 2-D toys).")
    if x.shape[0] < 3:
        raise ValueError(f"relative_local_density needs at least 3 points; got {x.shape[0]}.")
    if block < 1:
        raise ValueError(f"block must be a positive number of rows; got {block}.")
    if normalize:
        x = l2_normalize(x)
    mean_d = mean_pairwise_distance(x, seed=seed)
    if mean_d == 0:
        raise ValueError("all points coincide (mean pairwise distance is 0); RLD is undefined.")
    n = x.shape[0]
    _, y = np.unique(labels, return_inverse=True)
    order = np.argsort(y, kind="stable")  # classes contiguous -> same-class sums are slices
    ys = y[order]
    bounds = np.searchsorted(ys, np.arange(ys[-1] + 2))
    xs = torch.from_numpy(x[order])
    sq = (xs.double() ** 2).sum(1).float()
    scale = 1.0 / (mean_d * tau)

    def scaled_sim(r0: int, r1: int) -> torch.Tensor:  # [r1-r0, N] s_ij / tau, -inf on i == j
        t = xs[r0:r1] @ xs.T
        t.mul_(-2).add_(sq[r0:r1, None]).add_(sq[None, :]).clamp_(min=0).sqrt_().mul_(-scale)
        rows = torch.arange(r1 - r0)
        t[rows, rows + r0] = -float("inf")
        return t

    lse = torch.empty(n, dtype=torch.float32)
    k = np.empty(n)
    same = np.empty(n)
    with torch_threads(1 if n < 4000 else torch.get_num_threads()):
        for r0 in range(0, n, block):
            lse[r0 : r0 + block] = torch.logsumexp(scaled_sim(r0, min(n, r0 + block)), dim=1)
        for r0 in range(0, n, block):
            r1 = min(n, r0 + block)
            w = scaled_sim(r0, r1).mul_(2).sub_(lse[r0:r1, None]).sub_(lse[None, :]).exp_()  # W rows
            k[r0:r1] = w.sum(1).numpy()
            for c in np.unique(ys[r0:r1]):
                a, b = bounds[c], bounds[c + 1]
                ra, rb = max(a, r0), min(b, r1)
                same[ra:rb] = w[ra - r0 : rb - r0, a:b].sum(1).numpy()
    two_m = k.sum()
    if not two_m > 0:
        raise ValueError(f"tau={tau} is too small for these features: every edge weight underflowed to 0.")
    class_k = np.bincount(ys, weights=k)  # K_c
    q = same / two_m - k * class_k[ys] / two_m**2
    per = np.empty(n)
    per[order] = q
    return RLD(float(q.sum()), float(tau), n, mean_d, per if per_point else None)


@dataclass(frozen=True)
class RLDEstimate:
    """RLD over several class-stratified subsamples: the app shows mean and spread."""

    mean: float
    std: float
    values: np.ndarray  # [draws] one RLD per subsample
    n: int  # points per subsample
    tau: float


def rld_subsample(
    x: np.ndarray, labels: np.ndarray, tau: float, n: int = 10_000, draws: int = 5, seed: int = 0
) -> RLDEstimate:
    """RLD on `draws` class-stratified subsamples of n points (seeds seed..seed+draws-1).

    Zhang, Lu & Xuan 2023, Sec. 3 [P] measure; the fixed-size subsample is [L, measured]:
    the value barely depends on N. With N <= n every draw is the full set, computed once.
    """
    x = check_features(x, labels)
    if draws < 1:
        raise ValueError(f"draws must be >= 1; got {draws}.")
    if n >= len(x):
        v = relative_local_density(x, labels, tau, seed=seed).value
        return RLDEstimate(v, 0.0, np.array([v]), len(x), float(tau))
    vals = []
    for d in range(draws):
        rows = stratified_subsample(labels, n, seed=seed + d)
        vals.append(relative_local_density(x[rows], np.asarray(labels)[rows], tau, seed=seed + d).value)
    vals = np.array(vals)
    return RLDEstimate(float(vals.mean()), float(vals.std(ddof=1)) if draws > 1 else 0.0, vals, n, float(tau))


def calinski_harabasz(x: np.ndarray, labels: np.ndarray) -> float:
    """Calinski-Harabasz score (the paper's global density "CHS/CHI") via sklearn.

    Zhang, Lu & Xuan 2023, Sec. 3 [P]. x: [N, d]; labels: [N]. Higher = tighter, farther classes.
    """
    from sklearn.metrics import calinski_harabasz_score  # late: sklearn.metrics costs 2 s to import

    return float(calinski_harabasz_score(check_features(x, labels), labels))


# ---------------------------------------------------------------- neighbours and purity
def cosine_index(x: np.ndarray) -> faiss.IndexFlatIP:
    """faiss exact inner-product index over the L2-normalised rows of x: build it once to search the
    same features many times (`knn_search(..., index=)`)."""
    x = l2_normalize(check_features(x))
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    return index


def knn_search(
    x: np.ndarray,
    k: int,
    queries: np.ndarray | None = None,
    query_rows: np.ndarray | None = None,
    threads: int | None = None,
    index: faiss.IndexFlatIP | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k neighbours with faiss IndexFlatIP on L2-normalised float32 features.

    Used for every neighbour search in the lab (spec Sec. 3). x: [N, d] database.
    queries: [Nq, d] outside points (nothing excluded), or query_rows: [Nq] rows of x, or
    neither (all rows of x); for rows of x the point itself is excluded, even among duplicates.
    threads: faiss OpenMP threads; None = one per core. The lab runs its heavy jobs one at a time
    (lab.jobs), so searches have the cores to themselves: 70k x 64, k=50 took 11.3 s on 2 threads
    and 18.0 s on 1 (measured idle). Under load one thread can be faster: pass threads=1 there.
    index: `cosine_index(x)` built earlier, with query_rows: only the query rows are normalised (one
    row of 70,000 x 128 takes milliseconds instead of the ~0.1 s to copy x and fill an index).
    Returns (sims [Nq, k] float32 descending, idx [Nq, k] int64 into x).
    """
    if index is not None and query_rows is not None:
        if (index.ntotal, index.d) != x.shape:
            raise ValueError(f"the index holds {index.ntotal} x {index.d} features but x is {x.shape[0]} x {x.shape[1]}.")  # fmt: skip
        rows = np.asarray(query_rows, dtype=np.int64)
        return _own_rows_search(index, l2_normalize(check_features(np.asarray(x[rows]))), rows, k, threads)
    x = l2_normalize(check_features(x))
    n = x.shape[0]
    own = queries is None
    if own and k > n - 1:
        raise ValueError(f"asked for k={k} neighbours but x has only {n} points; use k <= {n - 1}.")
    if not own and k > n:
        raise ValueError(f"asked for k={k} neighbours but x has only {n} points; use k <= {n}.")
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}.")
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    if not own:
        q = l2_normalize(check_features(queries, name="queries"))
        if q.shape[1] != x.shape[1]:
            raise ValueError(f"queries have {q.shape[1]} dims but x has {x.shape[1]}; use the same features.")
        with faiss_threads(threads):
            sims, idx = index.search(q, k)
        return sims, idx.astype(np.int64)
    rows = np.arange(n) if query_rows is None else np.asarray(query_rows, dtype=np.int64)
    return _own_rows_search(index, x[rows], rows, k, threads)


def _own_rows_search(index, q: np.ndarray, rows: np.ndarray, k: int, threads: int | None):
    """Top-k neighbours of indexed rows `rows` (normalised q), each row itself excluded."""
    if not 1 <= k <= index.ntotal - 1:
        raise ValueError(f"asked for k={k} neighbours but x has only {index.ntotal} points; use 1 <= k <= {index.ntotal - 1}.")  # fmt: skip
    with faiss_threads(threads):
        sims, idx = index.search(q, k + 1)
    is_self = idx == rows[:, None]
    drop = np.where(is_self.any(1), is_self.argmax(1), k)  # self if found, else the (k+1)-th
    keep = np.ones_like(is_self)
    keep[np.arange(len(rows)), drop] = False
    return sims[keep].reshape(-1, k), idx[keep].reshape(-1, k).astype(np.int64)


def approx_knn_graph(
    x: np.ndarray, k: int, seed: int = 0, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate cosine top-k neighbours of every row of x (self excluded), for UMAP's graph [L].

    faiss IndexIVFFlat (inverted lists over k-means cells of the normalised features; each point
    scans the lists of its nprobe nearest cells). UMAP's own graph is approximate too (NN-descent);
    this one is quicker: `python -m lab bench-geometry` (70,000 x 64 pixel features, 2 cores) finds
    the 14-NN of every point in 1.0 s with recall 0.98 against the exact table, which takes 8.7 s.
    Rows that get fewer than k hits fall back to the exact search. The exact neighbours the app
    shows (lab.neighbours) always come from knn_search. Returns (sims [N, k], idx [N, k] int64).
    """
    x = l2_normalize(check_features(x))
    n, d = x.shape
    if k > n - 1:
        raise ValueError(f"asked for k={k} neighbours but x has only {n} points; use k <= {n - 1}.")
    nlist = int(np.clip(round(2 * np.sqrt(n)), 1, max(1, n // 40)))
    rng = np.random.default_rng(seed)
    sample = x[rng.choice(n, min(n, 40 * nlist), replace=False)]
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    with faiss_threads(threads):
        index.train(sample)
        index.add(x)
        index.nprobe = min(nlist, 8)
        sims, idx = index.search(x, k + 1)
    rows = np.arange(n)
    is_self = idx == rows[:, None]
    drop = np.where(is_self.any(1), is_self.argmax(1), k)
    keep = np.ones_like(is_self)
    keep[rows, drop] = False
    sims, idx = sims[keep].reshape(n, k), idx[keep].reshape(n, k).astype(np.int64)
    short = np.flatnonzero((idx < 0).any(1))
    if len(short):
        sims[short], idx[short] = knn_search(x, k, query_rows=short, threads=threads)
    return sims, idx


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


def knn_density(x: np.ndarray, k: int = 10) -> np.ndarray:
    """kNN density 1 / mean cosine distance (1 - sim) to the k nearest neighbours, in embedding space.

    Heatmap layer of the spec's local-density map [L]. x: [N, d]. Returns [N]; distances are
    floored at 1e-6 so k exact duplicates give 1e6, never inf.
    """
    sims, _ = knn_search(x, k)
    return 1.0 / np.maximum((1.0 - sims.astype(np.float64)).mean(1), 1e-6)


@dataclass(frozen=True)
class DensityGrid:
    """Mean of a per-point value over a grid on the 2-D map; NaN marks cells without points."""

    grid: np.ndarray  # [bins, bins], rows = y bins, columns = x bins (plotly heatmap z)
    counts: np.ndarray  # [bins, bins] points per cell
    x_edges: np.ndarray  # [bins + 1]
    y_edges: np.ndarray  # [bins + 1]


def density_grid(xy: np.ndarray, values: np.ndarray, bins: int = 60) -> DensityGrid:
    """Local-density heatmap [L]: per-cell mean of a per-point quantity on the 2-D map.

    Zhang, Lu & Xuan 2023 context (spec Sec. 3, lab design). xy: [N, 2] map coordinates;
    values: [N] per-point RLD q_i, purity@10 or knn_density (computed in embedding space).
    """
    xy = check_features(xy, name="xy")
    values = np.asarray(values, dtype=np.float64)
    if xy.shape[1] != 2 or values.shape != (len(xy),):
        raise ValueError(f"need xy [N, 2] and values [N]; got {xy.shape} and {values.shape}.")
    if not np.isfinite(values).all():
        raise ValueError("values contain NaN or inf; compute the per-point quantity on finite features.")
    sums, xe, ye = np.histogram2d(xy[:, 0], xy[:, 1], bins=bins, weights=values)
    counts, _, _ = np.histogram2d(xy[:, 0], xy[:, 1], bins=[xe, ye])
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = np.where(counts > 0, sums / counts, np.nan)
    return DensityGrid(grid.T, counts.T, xe, ye)
