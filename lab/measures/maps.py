"""2-D maps of features with UMAP (McInnes, Healy & Melville 2018; umap-learn), and how much of the
embedding's local structure a map keeps. Pure functions: no file is read or written here except
numba's compile cache.

UMAP runs on L2-normalised features with the Euclidean metric, which ranks neighbours exactly
as cosine similarity does (the lab's metric everywhere) [L]. Its neighbour graph can be handed in
from faiss instead of UMAP's own NN-descent (`knn=`).

numba compiles UMAP's kernels on first use (about 30 s on 2 cores). `warm_up_umap()` pays that
once on a small input, and NUMBA_CACHE_DIR is set to a persistent folder before numba is
imported, so later processes reuse the compiled code. umap-learn 0.5 leaves three of its parallel
kernels out of numba's disk cache (no `cache=True`), so every new process compiled them again
(about 10 s per process on 2 cores); `_import_umap()` turns numba's cache on for them
(`Dispatcher.enable_caching`, numba's own switch).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

# Must happen before numba is imported anywhere (umap imports it).
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[2] / ".cache" / "numba"))

import numpy as np  # noqa: E402

from lab.measures.features import l2_normalize  # noqa: E402
from lab.measures.neighbours import knn_search  # noqa: E402

N_NEIGHBORS = 15
MIN_DIST = 0.1
LARGE_N, LARGE_N_EPOCHS = 20_000, 80
FIDELITY_QUERIES = 5000


def _import_umap():
    """umap, imported late (it loads numba: seconds), with its uncached parallel kernels cached."""
    import umap
    import umap.layouts
    import umap.umap_

    kernels = (umap.umap_.smooth_knn_dist, umap.umap_.compute_membership_strengths,
               # only the parallel layout epoch: the serial one (seeded maps) shares its Python function,
               # and numba's cache index does not tell the two apart
               umap.layouts._nb_optimize_layout_euclidean_single_epoch_parallel)  # fmt: skip
    for kernel in kernels:
        if type(getattr(kernel, "_cache", None)).__name__ == "NullCache":
            kernel.enable_caching()
    return umap


def umap_2d(x: np.ndarray, n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST, seed: int | None = None,
            knn: tuple[np.ndarray, np.ndarray] | None = None, epochs: int | None = None,
            progress: Callable[[float, float], None] | None = None,
            init: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """UMAP of features x [N, d] to float32 [N, 2] (cosine geometry via normalised Euclidean).

    knn: optional (idx [N, k], cosine sims [N, k]) with self excluded, k >= n_neighbors - 1:
    a precomputed exact neighbour graph. Small inputs (N <= n_neighbors + 1) get a circle.
    seed: None (the app's choice) runs UMAP's layout on all cores, not bit-reproducible; a seed
    makes it reproducible but single-threaded, so on 2 cores it takes about twice as long.
    Above LARGE_N points the layout runs LARGE_N_EPOCHS epochs instead of UMAP's 200 and starts
    from PCA instead of the spectral embedding [L] (`epochs` overrides the count). The layout is most
    of the time between a finished training and its map, and the map only has to show the clusters
    (the neighbours shown come from the embedding space, not from the map). `python -m lab bench-app
    --layouts` fits a stored full Fashion-MNIST run's 70,000 points at 200, 120 and 80 epochs and reports seconds,
    map fidelity and 2-D class purity (docs/performance.md, "Maps").
    progress: optional progress(fraction of the layout's epochs done, seconds left) at most twice a
    second, read from the progress bar umap-learn draws with tqdm (`tqdm_kwds`).
    init: optional [N, 2] starting layout (umap-learn's `init=` array; it rescales it to its own box),
    e.g. the previous frame of a training timeline, so that consecutive layouts stay aligned.
    """
    umap = _import_umap()
    x = l2_normalize(x)
    n = len(x)
    if n <= n_neighbors + 1:  # UMAP's spectral layout needs more points than neighbours
        angle = 2 * np.pi * np.arange(n) / max(n, 1)
        return np.stack([np.cos(angle), np.sin(angle)], 1).astype(np.float32)
    precomputed = (None, None, None)
    if knn is not None and knn[0].shape[1] >= n_neighbors - 1:
        idx, sims = knn
        # UMAP's own graph lists each point as its own first neighbour, at distance 0.
        idx = np.concatenate([np.arange(n)[:, None], np.asarray(idx[:, : n_neighbors - 1])], 1)
        dist = np.sqrt(np.clip(2 - 2 * np.asarray(sims[:, : n_neighbors - 1], np.float64), 0, None))
        dist = np.concatenate([np.zeros((n, 1)), dist], 1).astype(np.float32)
        precomputed = (idx.astype(np.int32), dist, None)
    reducer = umap.UMAP(
        n_neighbors=n_neighbors, min_dist=min_dist, metric="euclidean", random_state=seed,
        precomputed_knn=precomputed, n_jobs=1 if seed is not None else -1, low_memory=True,
        n_epochs=epochs or (LARGE_N_EPOCHS if n > LARGE_N else None), init=_init(init, n),
        tqdm_kwds=None if progress is None else _EpochsDone(progress).tqdm_kwds(),
    )  # fmt: skip
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # precomputed_knn and threading notes
        xy = reducer.fit_transform(x)
    return np.asarray(xy, dtype=np.float32)


def _init(init: np.ndarray | None, n: int):
    if init is None:
        return "pca" if n > LARGE_N else "spectral"
    init = np.asarray(init, dtype=np.float32)
    if init.shape != (n, 2) or not np.isfinite(init).all():
        raise ValueError(f"init must be a finite [{n}, 2] layout; got shape {init.shape}.")
    return init


class _EpochsDone:
    """A text file for tqdm that turns umap-learn's layout progress bar ("12/80") into
    progress(fraction done, seconds left)."""

    def __init__(self, progress: Callable[[float, float], None]):
        self.progress, self.started = progress, None

    def tqdm_kwds(self) -> dict:
        return {"disable": False, "file": self, "bar_format": "{n}/{total}", "mininterval": 0.5}

    def write(self, text: str) -> None:
        done = re.findall(r"(\d+)/(\d+)", text)
        if done and int(done[-1][1]) > 0:
            fraction = int(done[-1][0]) / int(done[-1][1])
            self.started = self.started or time.perf_counter()  # tqdm writes "0/80" as the layout starts
            elapsed = time.perf_counter() - self.started
            self.progress(fraction, elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan"))

    def flush(self) -> None:
        pass


def neighbours_kept(idx: np.ndarray, xy: np.ndarray, k: int = N_NEIGHBORS - 1, queries: int = FIDELITY_QUERIES,
                    seed: int = 0) -> float:  # fmt: skip
    """How much of the embedding's local structure a 2-D map keeps [L]: for `queries` seeded rows,
    the share of each row's k nearest neighbours in the embedding (idx [N, >=k], self excluded, as
    from the kNN search UMAP was given) that are also among its k nearest on the map (Euclidean,
    exact, by a k-d tree), averaged. 1 = every neighbourhood kept; a random map keeps about
    k / N. A map keeps clusters far better than it keeps exact neighbours, which is why the app
    shows a clicked image's neighbours from the embedding, not from the map."""
    k = min(k, idx.shape[1], len(xy) - 1)
    rows, near = nearest_on_map(xy, k + 1, queries, seed)
    kept = [len(set(e[:k].tolist()) & set([j for j in m.tolist() if j != r][:k]))
            for r, e, m in zip(rows.tolist(), idx[rows], near, strict=True)]  # fmt: skip
    return float(np.mean(kept) / k)


def map_class_purity(xy: np.ndarray, labels: np.ndarray, k: int = N_NEIGHBORS, queries: int = FIDELITY_QUERIES,
                     seed: int = 0) -> float:  # fmt: skip
    """Share of a seeded sample of rows' k nearest map neighbours (self excluded) in the row's class:
    how well the map separates the classes, whatever it keeps of exact neighbourhoods [L]."""
    rows, near = nearest_on_map(xy, k + 1, queries, seed)
    labels = np.asarray(labels)
    return float((labels[near[:, 1:]] == labels[rows, None]).mean())


def nearest_on_map(xy: np.ndarray, k: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, near [len(rows), k]): `queries` seeded rows and their k nearest points on the 2-D map,
    themselves usually first (exact Euclidean, by a k-d tree: in 2-D far quicker than a flat search)."""
    from sklearn.neighbors import KDTree

    rows = np.random.default_rng(seed).choice(len(xy), min(len(xy), queries), replace=False)
    xy = np.asarray(xy, dtype=np.float64)
    return rows, KDTree(xy).query(xy[rows], k=k, return_distance=False)


_WARM = {"done": False, "seconds": None}


def warm_up_umap(n: int = 300, seed: int = 0) -> float:
    """Fit UMAP on small random inputs so numba compiles (or loads from its cache) the kernels
    now, not on a user's first map. It runs the path the app uses (a precomputed neighbour graph,
    as `run_map` passes the run's stored kNN table) on one cloud (a connected graph) and on
    separated clusters (a graph in pieces, which UMAP lays out by another code path). Returns the seconds it took; 0 the second time."""
    if _WARM["done"]:
        return 0.0
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    cloud = rng.standard_normal((n, 16)).astype(np.float32)
    centres = 20 * np.eye(16, dtype=np.float32)[np.arange(n) % 4]
    clusters = centres + rng.standard_normal((n, 16)).astype(np.float32)
    for x in (cloud, clusters):
        sims, idx = knn_search(x, N_NEIGHBORS)
        umap_2d(x, knn=(idx, sims))  # unseeded: the parallel layout the app uses
    _WARM.update(done=True, seconds=time.perf_counter() - start)
    return _WARM["seconds"]


def umap_is_warm() -> bool:
    return _WARM["done"]
