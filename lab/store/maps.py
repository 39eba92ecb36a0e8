"""Stored 2-D maps of a run (UMAP, lab.measures.maps), one file per space and parameters:

  <run>/maps/umap-<space>-n<n_neighbors>-d<min_dist>.npy   float32 [N, 2], same rows as the run
  <run>/maps/umap-<space>-n<n_neighbors>-d<min_dist>.json  the map's fidelity (neighbours kept)

Both written atomically (lab.store.atomic). UMAP's neighbour graph comes from faiss: the run's
stored exact kNN table (lab.store.neighbours) when it exists, else an exact search up to LARGE_N
points and an approximate one above (lab.measures.neighbours.approx_knn_graph: faiss IVF, recall
0.98 in `python -m lab bench-geometry`, several times quicker than the exact search, which was
most of the time between a finished training and its map). The exact table is computed after the map.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lab.measures.maps import FIDELITY_QUERIES, LARGE_N, MIN_DIST, N_NEIGHBORS, neighbours_kept, umap_2d
from lab.measures.neighbours import approx_knn_graph, knn_search
from lab.store.atomic import save_npy_atomically, save_text_atomically
from lab.store.neighbours import stored_table
from lab.store.runs import check_space


def map_path(
    run, space: str = "backbone", n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST
) -> Path:
    return Path(run.path) / "maps" / f"umap-{space}-n{n_neighbors}-d{min_dist:g}.npy"


def stored_map(run, space: str = "backbone", n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST):
    """The stored map [N, 2] of this run, space and parameters, or None when not computed yet."""
    path = map_path(run, space, n_neighbors, min_dist)
    if not path.is_file():
        return None
    try:
        xy = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return xy if xy.shape == (len(run.labels), 2) and np.isfinite(xy).all() else None


def run_map(run, space: str = "backbone", n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST,
            seed: int | None = None, progress: Callable[[float, float], None] | None = None) -> np.ndarray:  # fmt: skip
    """The run's map in `space`: loaded when stored, otherwise computed, stored and returned.
    progress: as for umap_2d, while the layout runs."""
    check_space(space)
    xy = stored_map(run, space, n_neighbors, min_dist)
    if xy is not None:
        return xy
    x = run.features(space)
    table = stored_table(run, space)
    if table is not None:
        knn = (table.idx, table.sims)
    elif len(x) <= n_neighbors + 1:  # drawn as a circle, no graph
        knn = None
    else:
        search = approx_knn_graph if len(x) > LARGE_N else knn_search
        sims, idx = search(x, min(n_neighbors - 1, len(x) - 1))
        knn = (idx, sims)
    xy = umap_2d(x, n_neighbors, min_dist, seed, knn=knn, progress=progress)
    if knn is not None:  # written first: a stored map always has its fidelity beside it
        graph = "exact" if table is not None or len(x) <= LARGE_N else "faiss IVF"
        _store_fidelity(run, space, n_neighbors, min_dist, knn[0], xy, graph)
    save_npy_atomically(map_path(run, space, n_neighbors, min_dist), xy)
    return xy


def _store_fidelity(run, space, n_neighbors, min_dist, idx, xy, graph: str) -> dict:
    fid = {"neighbours_kept": neighbours_kept(idx, xy), "k": int(min(idx.shape[1], n_neighbors - 1)),
           "queries": int(min(len(xy), FIDELITY_QUERIES)), "graph": graph}  # fmt: skip
    save_text_atomically(fidelity_path(run, space, n_neighbors, min_dist), json.dumps(fid))
    return fid


def map_fidelity(run, space: str = "backbone", n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST):
    """The stored map's fidelity (see neighbours_kept); for a map stored without one, computed from
    the run's exact kNN table when that exists (a fraction of a second) and stored. None otherwise."""
    fid = stored_fidelity(run, space, n_neighbors, min_dist)
    if fid is not None:
        return fid
    xy, table = stored_map(run, space, n_neighbors, min_dist), stored_table(run, space)
    if xy is None or table is None or len(xy) <= n_neighbors + 1:
        return None
    try:
        return _store_fidelity(run, space, n_neighbors, min_dist, np.asarray(table.idx), xy, "exact")
    except OSError:  # a read-only runs folder: show nothing rather than fail the page
        return None


def fidelity_path(
    run, space: str = "backbone", n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST
) -> Path:
    return map_path(run, space, n_neighbors, min_dist).with_suffix(".json")


def stored_fidelity(run, space: str = "backbone", n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST):
    """{"neighbours_kept", "k", "queries", "graph"} of the stored map, or None (older maps, circles)."""
    try:
        return json.loads(fidelity_path(run, space, n_neighbors, min_dist).read_text())
    except (OSError, ValueError):
        return None
