"""Neighbour search: every nearest-neighbour query of the lab goes through faiss here.

Exact cosine top-k (IndexFlatIP on L2-normalised features), with the query point itself always
excluded, and an approximate graph (IndexIVFFlat) for UMAP. See docs/science.md, "Neighbours".
"""

from __future__ import annotations

import faiss
import numpy as np

from lab.measures.features import check_features, faiss_threads, l2_normalize


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
    (lab.worker), so searches have the cores to themselves: 70k x 64, k=50 took 11.3 s on 2 threads
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
    return drop_self(sims, idx, rows)


def drop_self(sims: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From a k+1 search of indexed rows `rows` [Nq], the k hits that are not the row itself: the
    self hit if found (even among exact duplicates), else the (k+1)-th. sims, idx: [Nq, k+1].
    Returns (sims [Nq, k], idx [Nq, k] int64)."""
    k = idx.shape[1] - 1
    is_self = idx == np.asarray(rows)[:, None]
    drop = np.where(is_self.any(1), is_self.argmax(1), k)
    keep = np.ones_like(is_self)
    keep[np.arange(len(idx)), drop] = False
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
    shows (lab.store.neighbours) always come from knn_search. Returns (sims [N, k], idx [N, k] int64).
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
    sims, idx = drop_self(sims, idx, np.arange(n))
    short = np.flatnonzero((idx < 0).any(1))
    if len(short):
        sims[short], idx[short] = knn_search(x, k, query_rows=short, threads=threads)
    return sims, idx
