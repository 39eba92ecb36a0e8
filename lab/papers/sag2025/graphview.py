"""What the kNN-graph page shows of a run (or its pixel baseline): the neighbourhood graph of an image,
random walks on it with SAG-VICReg's kernel, and the walks a sag-vicreg run logged in training.

Simai, Talmon & Shaham 2025 (arXiv 2506.18104); docs/science.md, "SAG-VICReg". The neighbourhood's
edges come from the run's stored exact kNN table (lab.store.neighbours); the walks use the kernel of
lab.measures.graphs on the neighbourhood's own points, as training does on a batch [L]. Milliseconds
for a few hundred nodes: the page calls these directly once the kNN table is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lab.measures.features import l2_normalize, torch_threads
from lab.measures.graphs import (
    GraphStats,
    force_layout,
    gaussian_knn_kernel,
    graph_stats,
    khop_nodes,
    knn_edges,
    sample_walks,
    transition_matrix,
    walk_matrix,
    walk_precision,
)
from lab.papers.sag2025.constants import GRAPH_K, GRAPH_NODES, GRAPH_WALKS, WALK_K, WALK_T
from lab.store.neighbours import stored_table


@dataclass(frozen=True)
class Neighbourhood:
    """The k-hop kNN neighbourhood of one image: its points, their edges and the graph's statistics."""

    rows: np.ndarray  # [m] rows of the run, the selected image first
    hops: np.ndarray  # [m] hops from the selected image
    labels: np.ndarray  # [m]
    edges: np.ndarray  # [E, 2] positions in rows (u < v)
    stats: GraphStats
    k: int  # out-edges per node


def neighbourhood(rep, row: int, space: str = "backbone", k: int = GRAPH_K, max_nodes: int = GRAPH_NODES) -> Neighbourhood:  # fmt: skip
    """The neighbourhood of `row` breadth-first through the stored kNN table (k edges per node) up to
    max_nodes points. ValueError when the table is not stored yet or row is not an image of the run."""
    n = len(rep.labels)
    if not 0 <= row < n:
        raise ValueError(f"image row {row} is outside this run's {n} images; pick 0 to {n - 1}.")
    table = stored_table(rep, space)
    if table is None:
        raise ValueError("the run's kNN table is not stored yet; it is computed in the background first.")
    if not 1 <= k <= table.k:
        raise ValueError(
            f"k = {k} neighbours, but the stored table holds {table.k} per image; use 1 to {table.k}."
        )
    rows, hops = khop_nodes(np.asarray(table.idx), row, k, max_nodes)
    edges = knn_edges(np.asarray(table.idx), rows, k)
    labels = np.asarray(rep.labels)[rows]
    return Neighbourhood(rows, hops, labels, edges, graph_stats(len(rows), edges, labels), k)


def positions(nb: Neighbourhood, layout: str, xy: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """Where to draw each node [m, 2]: "map" at the run's map coordinates xy [N, 2], "force" by a
    force-directed layout of the neighbourhood's edges (networkx)."""
    if layout == "map":
        if xy is None:
            raise ValueError("this representation has no map; use the force layout.")
        return np.asarray(xy, dtype=np.float64)[nb.rows]
    if layout == "force":
        return force_layout(len(nb.rows), nb.edges, seed)
    raise ValueError(f"Unknown layout '{layout}'. Choose map or force.")


@dataclass(frozen=True)
class Walks:
    """Random walks on a point set, as positions in its rows, with where they end."""

    paths: np.ndarray  # [w, t + 1] positions, start first
    precision: float  # share of walks ending on the start's class
    end_counts: np.ndarray  # [C] walks ending in each class
    return_probability: float  # P^t[start, start]: the walk mass that comes back to the start
    mean_return: float  # mean of P^t's diagonal over all points
    k: int
    t: int
    bandwidth: float


def walks_from(rep, nb: Neighbourhood, space: str = "backbone", k: int = WALK_K, t: int = WALK_T,
               bandwidth: float = 1.0, n_walks: int = GRAPH_WALKS, seed: int = 0) -> Walks:  # fmt: skip
    """n_walks t-step walks from the selected image (position 0) with SAG-VICReg's kernel on the
    neighbourhood's normalised features: k nearest, median bandwidth x `bandwidth`, symmetrised [L]."""
    if t < 1:
        raise ValueError(f"a walk needs at least 1 step; got t = {t}.")
    x = torch.from_numpy(l2_normalize(rep.features(space)[nb.rows]))
    with torch_threads(1):  # small ops: one thread beside the server (lab.papers.sag2025.losses says why)
        p = transition_matrix(gaussian_knn_kernel(x, k, bandwidth))
        gen = torch.Generator().manual_seed(seed)
        paths = sample_walks(p, torch.zeros(n_walks, dtype=torch.long), t, gen).numpy()
        diag = torch.diagonal(walk_matrix(p, t)).numpy()
    n_classes = int(np.asarray(rep.labels).max()) + 1
    ends = nb.labels[paths[:, -1]]
    return Walks(paths, walk_precision(paths[:, 0], paths[:, -1], nb.labels), np.bincount(ends, minlength=n_classes),
                 float(diag[0]), float(diag.mean()), k, t, bandwidth)  # fmt: skip


@dataclass(frozen=True)
class TrainingWalks:
    """The walks a sag-vicreg run took on its last training batch (rows of the run's training split)."""

    rows: np.ndarray  # [w, t + 1]
    precision: float  # of these walks
    run_precision: float | None  # the mean over the whole run, as recorded


def training_walks(run) -> TrainingWalks | None:
    """The logged walks of a sag-vicreg run, or None for any other run."""
    own = getattr(run, "metrics", {}).get("method", {})
    if "walks" not in own:
        return None
    rows = np.asarray(own["walks"], dtype=np.int64)
    return TrainingWalks(rows, walk_precision(rows[:, 0], rows[:, -1], run.labels), own.get("walk_precision"))
