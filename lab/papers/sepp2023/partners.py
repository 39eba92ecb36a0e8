"""Semantic partners: each image's mined positives, and how good they are.

Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122): positives mined once from un-augmented images with
an encoder trained without labels [P idea]; top-k cosine neighbours, a threshold given as a quantile of
the top-k cosines and an optional mutual-neighbour filter are the lab's details [L] (spec 1, docs/science.md,
"SePP"). Pure functions on numpy arrays; neighbours through lab.measures.neighbours.knn_search (exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    sims, idx = knn_search(x, k, threads=threads)
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
