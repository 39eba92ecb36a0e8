"""lab.measures.structure: M1 against a superclass tree and the label-free M2, on constructed data."""

from __future__ import annotations

import numpy as np
import pytest

from lab.measures.structure import m1_structure, m2_structure, tree_distances

TREE = ((0, 2, 4, 6), (1, 3), (5, 7, 9), (8,))  # Fashion-MNIST's groups


def tree_embeddings(groups, per_class: int = 20, noise: float = 0.0, seed: int = 0):
    """Embeddings built from the tree itself: a large superclass one-hot plus a small class one-hot."""
    rng = np.random.default_rng(seed)
    n_classes = sum(len(g) for g in groups)
    group_of = {c: gi for gi, g in enumerate(groups) for c in g}
    y = np.repeat(np.arange(n_classes), per_class)
    x = np.zeros((len(y), len(groups) + n_classes))
    x[np.arange(len(y)), [group_of[c] for c in y]] = 3.0
    x[np.arange(len(y)), len(groups) + y] = 1.0
    return x + noise * rng.normal(size=x.shape), y


def test_tree_distances_are_one_within_and_two_across_superclasses():
    d = tree_distances(((0, 2), (1,)))
    assert d.tolist() == [[0, 2, 1], [2, 0, 2], [1, 2, 0]]
    with pytest.raises(ValueError, match="each class"):
        tree_distances(((0, 1), (1, 2)))


def test_m1_is_one_on_embeddings_built_from_the_tree():
    x, y = tree_embeddings(TREE)
    m1 = m1_structure(x, y, TREE)
    assert m1.pairs == 45
    for value in (m1.spearman, m1.kendall, m1.auc, m1.cophenetic):
        assert value == pytest.approx(1.0)


def test_m1_falls_when_the_tree_is_not_the_one_the_embedding_follows():
    x, y = tree_embeddings(TREE)
    other = ((0, 1, 2, 3), (4, 5), (6, 7, 8), (9,))
    m1 = m1_structure(x, y, other)
    assert m1.cophenetic < 0.5 and m1.auc < 0.9


def test_m1_of_noise_is_near_zero():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 200)
    m1 = m1_structure(rng.normal(size=(len(y), 32)), y, TREE)
    assert abs(m1.spearman) < 0.4 and abs(m1.cophenetic) < 0.4


def test_m1_needs_every_class_of_the_tree():
    x, y = tree_embeddings(TREE)
    with pytest.raises(ValueError, match="no rows"):
        m1_structure(x[y != 3], y[y != 3], TREE)


def test_m2_follows_a_curve_when_the_diffusion_map_keeps_its_first_coordinate():
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, np.pi / 2, 600)
    arc = np.c_[np.cos(angle), np.sin(angle), 0.01 * rng.normal(size=(600, 3))]  # a 1-D curve on the sphere
    m2 = m2_structure(arc, m=600, clusters=30, n_eig=1)
    assert m2.spearman > 0.7 and m2.points == 600 and m2.clusters == 30 and m2.eigenvectors == 1
    assert m2_structure(arc, m=600, clusters=30, n_eig=1).spearman == m2.spearman  # seeded


def test_m2_is_a_rank_correlation_on_any_features():
    x, _ = tree_embeddings(TREE, per_class=40, noise=0.3)
    m2 = m2_structure(x, m=400, clusters=20)
    assert -1 <= m2.spearman <= 1 and m2.points == 400 and m2.eigenvectors == 10


def test_m2_refuses_too_few_points():
    with pytest.raises(ValueError, match="at least 6 points"):
        m2_structure(np.random.default_rng(0).normal(size=(5, 3)), k=2)
