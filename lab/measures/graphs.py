"""kNN graphs and random walks on them: SAG-VICReg's transition kernel, walks, k-hop neighbourhoods of a
kNN table, and graph statistics (networkx).

Simai, Talmon & Shaham 2025, "Enhancing VICReg: Random-Walk Pairing for Improved Generalization and
Better Global Semantics Capturing" (arXiv 2506.18104): the random-walk idea [P]; the kernel's details
(k nearest, median bandwidth, symmetrised, zero diagonal) are the lab's reading [L] (no code published).
docs/science.md, "SAG-VICReg". Pure functions: the kernel and walks on torch tensors (any device, so
training uses them on its batch), the neighbourhoods and statistics on numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch


def gaussian_knn_kernel(x: torch.Tensor, k: int, bandwidth: float = 1.0) -> torch.Tensor:
    """The symmetric kNN Gaussian affinity W [n, n] of the rows of x [n, d] (spec 1, SAG step 1).

    k nearest by Euclidean distance, the point itself excluded; sigma_i = bandwidth x the median of i's
    k distances; K_ij = exp(-d_ij^2 / sigma_i^2) on i's neighbours, 0 elsewhere; W = (K + K^T) / 2 with
    a zero diagonal. Every row of W has weight (i's nearest neighbour is within sigma_i when bandwidth
    >= 1). Returns float32 on x's device.
    """
    n = len(x)
    if not 1 <= k <= n - 1:
        raise ValueError(f"k = {k} neighbours needs a batch of more than k points; this one has {n}. "
                         f"Use 1 <= k <= {n - 1}.")  # fmt: skip
    if not bandwidth > 0:
        raise ValueError(f"the bandwidth scale must be above 0; got {bandwidth}.")
    x = x.float()
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    dist, nb = d.topk(k, dim=1, largest=False)  # [n, k]
    sigma = (torch.quantile(dist, 0.5, dim=1) * bandwidth).clamp_min(1e-12)  # the median, as numpy's
    kernel = torch.zeros_like(d).scatter_(1, nb, torch.exp(-((dist / sigma[:, None]) ** 2)))
    w = (kernel + kernel.T) / 2
    return w.fill_diagonal_(0.0)


def transition_matrix(w: torch.Tensor) -> torch.Tensor:
    """P = D^-1 W [n, n], row-stochastic (spec 1, SAG step 2). w: non-negative, every row with weight."""
    return w / w.sum(dim=1, keepdim=True)


def walk_matrix(p: torch.Tensor, t: int) -> torch.Tensor:
    """P^t [n, n]: where a t-step walk from each row ends, as probabilities."""
    if t < 1:
        raise ValueError(f"a walk needs at least 1 step; got t = {t}.")
    return torch.linalg.matrix_power(p, t)


def sample_walks(p: torch.Tensor, starts: torch.Tensor, t: int, generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """t-step random walks on P [n, n] from each start [m]: paths [m, t + 1] (start first, endpoint
    last). A walk's endpoint is distributed as P^t[start, :]. Each step inverts the row's cumulative
    distribution at a uniform draw in (0, 1] (searchsorted: it never lands on a zero-probability
    column; faster than torch.multinomial on the CPU)."""
    if t < 1:
        raise ValueError(f"a walk needs at least 1 step; got t = {t}.")
    cdf = p.cumsum(dim=1)
    path = [starts]
    for _ in range(t):
        rows = cdf[path[-1]]  # [m, n]
        u = 1 - torch.rand(len(starts), 1, generator=generator, device=p.device, dtype=p.dtype)
        path.append(torch.searchsorted(rows, u * rows[:, -1:]).squeeze(1).clamp(max=p.shape[1] - 1))
    return torch.stack(path, dim=1)


def walk_precision(starts: np.ndarray, ends: np.ndarray, labels: np.ndarray) -> float:
    """Share of walks whose endpoint has the start's label (display only: training never sees labels).
    starts, ends: [m] rows; labels: [N]."""
    labels = np.asarray(labels)
    return float(np.mean(labels[np.asarray(ends)] == labels[np.asarray(starts)]))


# ---------------------------------------------------------------- neighbourhoods of a kNN table
def khop_nodes(neighbours: np.ndarray, start: int, k: int, max_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The breadth-first neighbourhood of `start` in a kNN table: its k nearest, theirs, and so on,
    until max_nodes points (the last hop cut in table order).

    neighbours: [N, K] rows of each point's nearest neighbours (K >= k). Returns (rows [m], hop [m]),
    start first with hop 0.
    """
    if not 1 <= k <= neighbours.shape[1]:
        raise ValueError(f"k = {k} but the neighbour table holds {neighbours.shape[1]} per point; use 1 to {neighbours.shape[1]}.")  # fmt: skip
    order, hop, seen, frontier, h = [start], [0], {start}, [start], 0
    while frontier and len(order) < max_nodes:
        h += 1
        nxt = []
        for u in frontier:
            for v in neighbours[u, :k].tolist():
                if v not in seen and len(order) < max_nodes:
                    seen.add(v)
                    order.append(v)
                    hop.append(h)
                    nxt.append(v)
        frontier = nxt
    return np.asarray(order, dtype=np.int64), np.asarray(hop, dtype=np.int64)


def knn_edges(neighbours: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Undirected edges [E, 2] (positions in rows, u < v) between the points `rows` whose kNN table
    links them: v among u's k nearest or u among v's."""
    pos = {int(r): i for i, r in enumerate(rows)}
    edges = {
        (min(i, pos[v]), max(i, pos[v]))
        for i, r in enumerate(rows.tolist())
        for v in neighbours[r, :k].tolist()
        if v in pos and pos[v] != i
    }
    return np.asarray(sorted(edges), dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True)
class GraphStats:
    """What a neighbourhood graph looks like (networkx): its size, class mixing, pieces and degrees."""

    nodes: int
    edges: int
    cross_class_share: float  # share of edges between two classes
    components: int  # connected components
    largest_component: float  # share of nodes in the largest
    degree_mean: float
    degree_std: float
    degree_min: int
    degree_max: int


def graph_stats(n: int, edges: np.ndarray, labels: np.ndarray) -> GraphStats:
    """Statistics of the undirected graph on n nodes with edges [E, 2] and node labels [n]."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, np.asarray(edges).tolist()))
    labels = np.asarray(labels)
    cross = float(np.mean(labels[edges[:, 0]] != labels[edges[:, 1]])) if len(edges) else 0.0
    parts = list(nx.connected_components(g))
    degrees = np.asarray([d for _, d in g.degree()], dtype=np.float64)
    return GraphStats(n, g.number_of_edges(), cross, len(parts), max(map(len, parts)) / n, float(degrees.mean()),
                      float(degrees.std()), int(degrees.min()), int(degrees.max()))  # fmt: skip


def force_layout(n: int, edges: np.ndarray, seed: int = 0, iterations: int = 50) -> np.ndarray:
    """A force-directed layout [n, 2] of the graph (networkx spring_layout, seeded)."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, np.asarray(edges).tolist()))
    pos = nx.spring_layout(g, seed=seed, iterations=iterations)
    return np.asarray([pos[i] for i in range(n)], dtype=np.float64)
