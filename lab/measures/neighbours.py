"""Neighbour search: every nearest-neighbour query of the lab goes through here (faiss, and torch).

Exact cosine top-k (IndexFlatIP on L2-normalised features), with the query point itself always
excluded, and an approximate graph (IndexIVFFlat) for UMAP. Where faiss's bundled BLAS runs generic
kernels, a large exact search computes its similarities with torch instead (`search_backend`). See
docs/science.md, "Neighbours".
"""

from __future__ import annotations

import contextlib

import faiss
import numpy as np
import torch

from lab.measures.features import (
    check_features,
    exact_search_backend,
    faiss_threads,
    l2_normalize,
    torch_threads,
)


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
        sims, idx = flat_search(index, q, k, threads)
        return sims, idx.astype(np.int64)
    rows = np.arange(n) if query_rows is None else np.asarray(query_rows, dtype=np.int64)
    return _own_rows_search(index, x[rows], rows, k, threads)


def _own_rows_search(index, q: np.ndarray, rows: np.ndarray, k: int, threads: int | None):
    """Top-k neighbours of indexed rows `rows` (normalised q), each row itself excluded."""
    if not 1 <= k <= index.ntotal - 1:
        raise ValueError(f"asked for k={k} neighbours but x has only {index.ntotal} points; use 1 <= k <= {index.ntotal - 1}.")  # fmt: skip
    sims, idx = flat_search(index, q, k + 1, threads)
    return drop_self(sims, idx, rows)


TORCH_MIN_QUERIES = 256  # fewer queries: faiss, whatever its BLAS (a click's one row takes milliseconds)
TORCH_BLOCK_ENTRIES = 2**26  # similarities per block of the torch search: 256 MB of float32


def search_backend(n_queries: int, d: int, k: int) -> str:
    """The backend `flat_search` takes here for n_queries queries of d dims at k: "faiss" or "torch".

    torch only where `exact_search_backend()` allows it (faiss's BLAS runs generic kernels), for many
    queries, and where it was faster on such a CPU (10,000 queries against 60,000 points): from 128 dims
    at every k measured (up to 1,001; 1.7-3.8x at 256 dims), at 64 dims up to k = 128 (1.2-1.6x; slower
    at k = 201 and 1,001); below 64 dims faiss was faster (docs/performance.md, "Exact neighbour search").
    """
    if n_queries < TORCH_MIN_QUERIES or d < 64 or (d < 128 and k > 128):
        return "faiss"
    return exact_search_backend()


def flat_search(
    index: faiss.IndexFlatIP, q: np.ndarray, k: int, threads: int | None, backend: str | None = None
):
    """index.search(q, k) on normalised queries q [Nq, d]: by faiss, or where `search_backend` says so, as
    blocked torch matmuls against the index's vectors with torch.topk: the same exact top-k up to ties.
    backend: force one."""
    backend = backend or search_backend(len(q), index.d, k)
    if backend == "faiss":
        with faiss_threads(threads):
            return index.search(q, k)
    x = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    with torch_threads(threads) if threads else contextlib.nullcontext(), torch.inference_mode():
        sims, idx = matmul_topk(torch.from_numpy(q), torch.from_numpy(x), k)
    return sims.numpy(), idx.numpy()


def matmul_topk(q: torch.Tensor, x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest of q @ x.T per row [Nq, k] (values, column indices), on q's device, a block of query
    rows at a time (TORCH_BLOCK_ENTRIES similarities). Shared by `flat_search` and the CUDA kNN score."""
    block = max(1, min(len(q), TORCH_BLOCK_ENTRIES // max(1, len(x))))
    parts = [(q[i : i + block] @ x.T).topk(k, dim=1) for i in range(0, len(q), block)]
    return torch.cat([v for v, _ in parts]), torch.cat([j for _, j in parts])


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
