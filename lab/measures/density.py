"""Local and global density: Relative Local Density, the Calinski-Harabasz score, kNN density and
the map's density grid.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229);
definitions in docs/science.md, "Relative Local Density". Pure functions on numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from lab.measures.features import (
    check_features,
    l2_normalize,
    mean_pairwise_distance,
    stratified_subsample,
    torch_threads,
)
from lab.measures.neighbours import knn_search


@dataclass(frozen=True)
class RLD:
    """Relative Local Density of one labelled point set (see relative_local_density)."""

    value: float  # the modularity score, about [-0.5, 1)
    tau: float
    n: int
    mean_distance: float  # the scale s_ij is divided by
    per_point: np.ndarray | None = None  # [N] q_i, sums to value (only when asked for)


def check_tau(tau: float) -> None:
    if not tau > 0:
        raise ValueError(f"tau must be > 0; got {tau}. Typical values: 1, 0.5, 0.2, 0.1 (0.05 for 2-D toys).")


def rld_weight_blocks(
    x: np.ndarray, scale: float, block: int = 2048
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Row blocks of the RLD graph's edge weights, W_ij = P(j|i) P(i|j), never all N x N at once.

    Zhang, Lu & Xuan 2023 [P]: s_ij / tau = -scale * ||x_i - x_j|| (scale = 1 / (mean distance * tau)),
    P(j|i) = softmax_j without self loops, so W_ij = exp(2 s_ij/tau - lse_i - lse_j). Two passes
    [L]: the row log-sum-exps lse_i first, then W in row blocks. x: [N, d] float32 (normalised or not,
    as the caller decides). Yields (r0, r1, W[r0:r1] float32 [r1 - r0, N]) with a zero diagonal.
    """
    if block < 1:
        raise ValueError(f"block must be a positive number of rows; got {block}.")
    xs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    sq = (xs.double() ** 2).sum(1).float()
    n = len(xs)

    def scaled_sim(r0: int, r1: int) -> torch.Tensor:  # [r1-r0, N] s_ij / tau, -inf on i == j
        t = xs[r0:r1] @ xs.T
        t.mul_(-2).add_(sq[r0:r1, None]).add_(sq[None, :]).clamp_(min=0).sqrt_().mul_(-scale)
        rows = torch.arange(r1 - r0)
        t[rows, rows + r0] = -float("inf")
        return t

    lse = torch.empty(n, dtype=torch.float32)
    for r0 in range(0, n, block):
        lse[r0 : r0 + block] = torch.logsumexp(scaled_sim(r0, min(n, r0 + block)), dim=1)
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        yield r0, r1, scaled_sim(r0, r1).mul_(2).sub_(lse[r0:r1, None]).sub_(lse[None, :]).exp_()


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
    check_tau(tau)
    if x.shape[0] < 3:
        raise ValueError(f"relative_local_density needs at least 3 points; got {x.shape[0]}.")
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
    k = np.empty(n)
    same = np.empty(n)
    with torch_threads(1 if n < 4000 else torch.get_num_threads()):
        for r0, r1, w in rld_weight_blocks(x[order], 1.0 / (mean_d * tau), block):
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
    rows: np.ndarray | None = None  # [n] rows of the first draw (with per_point=True)
    per_point: np.ndarray | None = None  # [n] q_i of the first draw, sums to values[0]

    @classmethod
    def of(cls, values, n: int, tau: float, rows=None, per_point=None) -> RLDEstimate:
        vals = np.asarray(values, dtype=np.float64)
        std = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        return cls(float(vals.mean()), std, vals, int(n), float(tau), rows, per_point)


def rld_subsample(
    x: np.ndarray,
    labels: np.ndarray,
    tau: float,
    n: int = 10_000,
    draws: int = 5,
    seed: int = 0,
    per_point: bool = False,
    progress: Callable[[float, str], None] | None = None,
) -> RLDEstimate:
    """RLD on `draws` class-stratified subsamples of n points (seeds seed..seed+draws-1).

    Zhang, Lu & Xuan 2023, Sec. 3 [P] measure; the fixed-size subsample is [L, measured]:
    the value barely depends on N. With N <= n one draw covers the full set. per_point=True keeps
    the first draw's rows and per-point values q_i (the map layer). progress(fraction, message)
    before each draw. x: [N, d]; labels: [N].
    """
    x = check_features(x, labels)
    labels = np.asarray(labels)
    check_tau(tau)
    if draws < 1:
        raise ValueError(f"draws must be >= 1; got {draws}.")
    n_draws = 1 if n >= len(x) else draws
    size = min(n, len(x))
    values, first = [], (None, None)
    for d in range(n_draws):
        if progress is not None:
            progress(d / n_draws, f"RLD at τ={tau:g}: draw {d + 1} of {n_draws} ({size:,} points)")
        rows = stratified_subsample(labels, n, seed=seed + d)
        r = relative_local_density(x[rows], labels[rows], tau, seed=seed + d, per_point=per_point and d == 0)
        values.append(r.value)
        if d == 0 and per_point:
            first = (rows, r.per_point)
    return RLDEstimate.of(values, size, tau, *first)


def calinski_harabasz(x: np.ndarray, labels: np.ndarray) -> float:
    """Calinski-Harabasz score (the paper's global density "CHS/CHI") via sklearn.

    Zhang, Lu & Xuan 2023, Sec. 3 [P]. x: [N, d]; labels: [N]. Higher = tighter, farther classes.
    """
    from sklearn.metrics import calinski_harabasz_score  # late: sklearn.metrics costs 2 s to import

    return float(calinski_harabasz_score(check_features(x, labels), labels))


def knn_density(x: np.ndarray, k: int = 10) -> np.ndarray:
    """kNN density 1 / mean cosine distance (1 - sim) to the k nearest neighbours, in embedding space.

    Heatmap layer of the spec's local-density map [L]. x: [N, d]. Returns [N]; distances are
    floored at 1e-6 so k exact duplicates give 1e6, never inf.
    """
    sims, _ = knn_search(x, k)
    return knn_density_from_sims(sims)


def knn_density_from_sims(sims: np.ndarray) -> np.ndarray:
    """knn_density from the cosine similarities [N, k] of each point's k nearest neighbours (e.g. a
    stored kNN table's first k columns). Returns [N]."""
    return 1.0 / np.maximum((1.0 - np.asarray(sims, dtype=np.float64)).mean(1), 1e-6)


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
