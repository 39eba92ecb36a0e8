"""Input checks and small helpers every measure shares: feature validation, normalisation,
stratified subsamples, the mean pairwise distance, and thread-count scopes for torch and faiss.

Pure functions on numpy arrays: features `x` are float [N, d], labels integer class ids [N].
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager

import faiss
import numpy as np
import torch


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
    thread here when the other core is busy (measured; docs/performance.md, "Why the defaults are what they are")."""
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


# OpenBLAS's generic x86 kernel sets: what it runs on a CPU it does not recognise.
GENERIC_BLAS_CORES = frozenset(
    {"Prescott", "Katmai", "Coppermine", "Northwood", "Core2", "Penryn", "Dunnington"}
)


@functools.cache
def faiss_blas_core() -> str | None:
    """The kernel set faiss's own BLAS runs here (threadpoolctl's report), or None when it is not OpenBLAS.

    faiss-cpu wheels bundle their own OpenBLAS; 1.15.1's (0.3.15) does not recognise newer Intel Xeons
    (CPU model 207) and falls back to "Prescott" (SSE3) kernels, 4-5x slower than the SkylakeX kernels
    the same CPU gets from numpy's OpenBLAS (docs/performance.md, "Exact neighbour search").
    """
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib.get("internal_api") == "openblas" and "faiss" in lib.get("filepath", ""):
            return lib.get("architecture")
    return None


@functools.cache
def exact_search_backend() -> str:
    """Who computes the similarities of a large exact search here (lab.measures.neighbours.flat_search)."""
    return search_backend_for(faiss_blas_core(), torch.backends.cpu.get_cpu_capability())


def search_backend_for(blas_core: str | None, cpu_capability: str) -> str:
    """Either "faiss" (IndexFlatIP) or "torch" (blocked matmul + top-k) when faiss's BLAS runs generic kernels
    (blas_core) on a CPU that torch drives with AVX2 or AVX-512 (cpu_capability, torch's name for it).
    The neighbours are the same up to ties."""
    return "torch" if blas_core in GENERIC_BLAS_CORES and cpu_capability != "DEFAULT" else "faiss"


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


PAIR_CHUNK = 8_192  # pairs per block: 10x faster than all 200,000 at once on 5,000 x 256 features


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
    total = 0.0
    for s in range(0, len(i), PAIR_CHUNK):  # in chunks that stay in cache, not [n_pairs, F] at once
        d = x64[i[s : s + PAIR_CHUNK]] - x64[j[s : s + PAIR_CHUNK]]
        total += float(np.sqrt(np.einsum("ij,ij->i", d, d)).sum())
    return total / len(i)
