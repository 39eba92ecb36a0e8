"""lab.measures.graphs: SAG-VICReg's kNN Gaussian kernel, the transition matrix and walks on it, k-hop
neighbourhoods of a kNN table and graph statistics, on constructed inputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lab.measures.graphs import (
    gaussian_knn_kernel,
    graph_stats,
    khop_nodes,
    knn_edges,
    sample_walks,
    transition_matrix,
    walk_matrix,
    walk_precision,
)


def test_the_kernel_of_four_points_on_a_line_by_hand():
    x = torch.tensor([[0.0], [1.0], [3.0], [6.0]])
    w = gaussian_knn_kernel(x, k=1)
    # k = 1: each point's nearest and sigma_i = that distance, so K_ij = exp(-1) on each nearest pair
    k = np.zeros((4, 4))
    k[0, 1] = k[1, 0] = k[2, 1] = k[3, 2] = math.exp(-1)
    assert np.allclose(w.numpy(), (k + k.T) / 2, atol=1e-7)


def test_the_kernel_is_symmetric_with_a_zero_diagonal_and_at_least_k_edges_per_row():
    torch.manual_seed(0)
    w = gaussian_knn_kernel(torch.randn(64, 8), k=5)
    assert torch.allclose(w, w.T) and torch.all(torch.diagonal(w) == 0)
    assert torch.all((w > 0).sum(1) >= 5) and torch.all(w >= 0)


def test_the_transition_matrix_is_row_stochastic_with_a_zero_diagonal():
    torch.manual_seed(1)
    p = transition_matrix(gaussian_knn_kernel(torch.randn(100, 16), k=5))
    assert torch.allclose(p.sum(1), torch.ones(100)) and torch.all(torch.diagonal(p) == 0)
    p2 = walk_matrix(p, 2)
    assert torch.allclose(p2.sum(1), torch.ones(100), atol=1e-5)


def test_walks_stay_in_the_batch_and_move_along_edges():
    torch.manual_seed(2)
    p = transition_matrix(gaussian_knn_kernel(torch.randn(50, 4), k=3))
    paths = sample_walks(p, torch.arange(50), t=4, generator=torch.Generator().manual_seed(0))
    assert paths.shape == (50, 5) and paths.min() >= 0 and paths.max() < 50
    assert torch.all(paths[:, 0] == torch.arange(50))
    for a, b in zip(paths[:, :-1].flatten(), paths[:, 1:].flatten(), strict=True):
        assert p[a, b] > 0  # every step follows an edge of the graph


def test_walk_endpoints_follow_p_to_the_t():
    torch.manual_seed(3)
    p = transition_matrix(gaussian_knn_kernel(torch.randn(12, 3), k=3))
    starts = torch.zeros(20_000, dtype=torch.long)
    ends = sample_walks(p, starts, t=2, generator=torch.Generator().manual_seed(1))[:, -1]
    empirical = torch.bincount(ends, minlength=12).float() / len(ends)
    assert torch.allclose(empirical, walk_matrix(p, 2)[0], atol=0.015)


def test_bad_k_and_t_are_refused_with_what_to_do():
    with pytest.raises(ValueError, match="batch of more than k points"):
        gaussian_knn_kernel(torch.randn(5, 2), k=5)
    with pytest.raises(ValueError, match="at least 1 step"):
        walk_matrix(torch.eye(3), 0)
    with pytest.raises(ValueError, match="at least 1 step"):
        sample_walks(torch.eye(3), torch.arange(3), 0)


def test_walk_precision_is_the_share_of_walks_ending_on_the_starts_class():
    labels = np.array([0, 0, 1, 1])
    assert walk_precision(np.array([0, 1, 2, 3]), np.array([1, 2, 3, 3]), labels) == 0.75


def test_khop_nodes_walk_the_table_breadth_first_up_to_the_cap():
    table = np.array([[1, 2], [3, 0], [4, 0], [5, 1], [0, 2], [3, 1]])
    rows, hops = khop_nodes(table, 0, k=2, max_nodes=10)
    assert rows.tolist() == [0, 1, 2, 3, 4, 5] and hops.tolist() == [0, 1, 1, 2, 2, 3]
    rows, hops = khop_nodes(table, 0, k=1, max_nodes=3)
    assert rows.tolist() == [0, 1, 3]
    with pytest.raises(ValueError, match="holds 2 per point"):
        khop_nodes(table, 0, k=3, max_nodes=5)


def test_two_separate_class_cliques_give_two_components_and_no_cross_class_edges():
    table = np.array([[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]])
    rows = np.arange(6)
    edges = knn_edges(table, rows, k=2)
    stats = graph_stats(6, edges, np.array([0, 0, 0, 1, 1, 1]))
    assert stats.edges == 6 and stats.components == 2 and stats.largest_component == 0.5
    assert stats.cross_class_share == 0.0 and stats.degree_min == stats.degree_max == 2
    mixed = graph_stats(6, edges, np.array([0, 1, 0, 1, 0, 1]))
    assert mixed.cross_class_share == pytest.approx(4 / 6)
