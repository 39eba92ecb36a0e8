"""Semantic partners: each image's mined positives, and how good they are.

Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122): positives mined once from un-augmented images with
an encoder trained without labels [P idea]; top-k cosine neighbours, a threshold given as a quantile of
the top-k cosines and an optional mutual-neighbour filter are the lab's details [L] (spec 1, docs/science.md,
"SePP"). Pure functions on numpy arrays; neighbours through lab.measures.neighbours.knn_search (exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lab.measures.features import check_features, l2_normalize
from lab.measures.neighbours import knn_search


@dataclass(frozen=True)
class Partners:
    """Each image's partners, kept ones first: idx [N, k] rows (-1 past the kept ones), sims [N, k]."""

    idx: np.ndarray
    sims: np.ndarray
    threshold: float | None = None  # the cosine a kept pair reached (quantile threshold), when one was set

    @property
    def counts(self) -> np.ndarray:
        return (self.idx >= 0).sum(1)

    @property
    def coverage(self) -> float:
        """Share of images with at least one partner."""
        return float((self.counts > 0).mean())

    @property
    def mean_partners(self) -> float:
        return float(self.counts.mean())


def _kept_first(
    idx: np.ndarray, sims: np.ndarray, keep: np.ndarray, threshold: float | None = None
) -> Partners:
    order = np.argsort(~keep, axis=1, kind="stable")  # kept partners first, in their rank order
    idx, sims, keep = (np.take_along_axis(a, order, 1) for a in (idx, sims, keep))
    return Partners(np.where(keep, idx, -1), np.where(keep, sims, np.nan).astype(np.float32), threshold)


def mutual_mask(idx: np.ndarray) -> np.ndarray:
    """[N, k] True where the pair is mutual: i is also among its partner j's k nearest."""
    rows = np.arange(len(idx))[:, None, None]
    return (idx[idx] == rows).any(axis=2)


def _cosines_again(x: np.ndarray, idx: np.ndarray, rows: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(sims, idx): each found pair's cosine computed again from the unit rows, by one fixed float32 sum,
    and each row re-sorted by it [L]. faiss's BLAS splits its product by thread count, which moves the
    last bit of a cosine (1.8e-7 on an AMD EPYC, 1 thread against 2), and a run's partners and the
    quantile threshold over their cosines must not depend on the load (samplers.mining_threads)."""
    xn = l2_normalize(check_features(x))
    sims = np.empty(idx.shape, np.float32)
    for r0 in range(0, len(idx), rows):
        sims[r0 : r0 + rows] = np.einsum("nd,nkd->nk", xn[r0 : r0 + rows], xn[idx[r0 : r0 + rows]])
    order = np.argsort(-sims, axis=1, kind="stable")
    return np.take_along_axis(sims, order, 1), np.take_along_axis(idx, order, 1)


def mine_partners(x: np.ndarray, k: int, quantile: float = 0.0, mutual: bool = False,
                  threads: int | None = None) -> Partners:  # fmt: skip
    """Top-k cosine partners of every row of x [N, d] (exact, self excluded) [L].

    quantile: keep pairs whose cosine reaches this quantile of all N x k top-k cosines (0 keeps all;
    absolute cosines mean little, since ReLU features are close for any two images). mutual: keep a pair
    only when each is among the other's k nearest. An image may be left with no partner.
    """
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"the threshold quantile must be in [0, 1]; got {quantile}.")
    if not 1 <= k <= len(x) - 1:
        raise ValueError(
            f"k = {k} partners needs more than k images; there are {len(x)}. Use 1 to {len(x) - 1}."
        )
    sims, idx = _cosines_again(x, knn_search(x, k, threads=threads)[1])
    keep = np.ones(idx.shape, dtype=bool)
    threshold = None
    if quantile > 0:
        threshold = float(np.quantile(sims, quantile))
        keep &= sims >= threshold
    if mutual:
        keep &= mutual_mask(idx)
    return _kept_first(idx, sims, keep, threshold)


def _others(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """For each member of pool [m], k uniform draws among the other members (with replacement) [m, k]."""
    m = len(pool)
    if m < 2:
        return np.full((m, k), -1, dtype=np.int64)
    shift = 1 + rng.integers(0, m - 1, size=(m, k))
    return pool[(np.arange(m)[:, None] + shift) % m]


def oracle_partners(labels: np.ndarray, k: int, seed: int = 0) -> Partners:
    """k random other images of each image's own class: perfect pairs, an upper bound (uses labels)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    idx = np.full((len(labels), k), -1, dtype=np.int64)
    for c in np.unique(labels):
        pool = np.flatnonzero(labels == c)
        idx[pool] = _others(rng, pool, k)
    return _kept_first(idx, np.full(idx.shape, np.nan), idx >= 0)


def random_partners(n: int, k: int, seed: int = 0) -> Partners:
    """k random other images per image: a lower bound (pair precision at chance)."""
    idx = _others(np.random.default_rng(seed), np.arange(n), k)
    return Partners(idx, np.full(idx.shape, np.nan, dtype=np.float32))


def pair_precision(partners: Partners, labels: np.ndarray) -> float:
    """Share of kept (image, partner) pairs whose labels agree (NaN when no pair is kept). Display only."""
    labels = np.asarray(labels)
    kept = partners.idx >= 0
    if not kept.any():
        return float("nan")
    anchors = np.broadcast_to(np.arange(len(labels))[:, None], partners.idx.shape)
    return float((labels[anchors[kept]] == labels[partners.idx[kept]]).mean())
