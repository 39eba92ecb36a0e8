"""lab.measures.purity: class purity of neighbourhoods and cross-class nearest pairs on constructed data."""

import numpy as np
import pytest
from constructed import clustered

from lab.measures.neighbours import knn_search
from lab.measures.purity import class_purity, cross_class_pairs, purity_curve


def test_purity_is_one_on_well_separated_clusters():
    x, y = clustered(n=600, classes=3, spread=0.05)
    _, idx = knn_search(x, 10)
    assert class_purity(idx, y).min() == 1.0
    curve = purity_curve(x, y, ps=(1, 10, 100), n_queries=300)
    np.testing.assert_allclose(curve.overall, 1.0)
    assert curve.per_class.shape == (3, 3) and curve.n_queries == 300


def test_purity_is_about_one_over_c_with_shuffled_labels():
    x, y = clustered(n=2000, classes=4, spread=0.05)
    shuffled = np.random.default_rng(0).permutation(y)
    curve = purity_curve(x, shuffled, ps=(10, 100), n_queries=1000)
    np.testing.assert_allclose(curve.overall, 0.25, atol=0.03)


def test_cross_class_pairs_are_cross_class_sorted_and_unique():
    x, y = clustered(n=400, classes=4, spread=3.0)
    pairs = cross_class_pairs(x, y, k=20, top=50)
    assert len(pairs.i) == 50
    assert (y[pairs.i] != y[pairs.j]).all()
    assert (pairs.i < pairs.j).all()
    assert np.all(np.diff(pairs.cosine) <= 0)
    assert len(set(zip(pairs.i.tolist(), pairs.j.tolist(), strict=True))) == 50
    reused = cross_class_pairs(x, y, k=20, top=50, neighbors=knn_search(x, 30))  # a stored wider table
    np.testing.assert_array_equal(reused.i, pairs.i)
    np.testing.assert_array_equal(reused.j, pairs.j)


def test_cross_class_pairs_find_a_planted_near_duplicate_first_and_report_the_other_run():
    x, y = clustered(n=400, classes=4, spread=1.0)
    x[17] = x[250] + 1e-4  # a near copy of a point from another class
    y[17], y[250] = 0, 1
    other = np.random.default_rng(5).normal(size=x.shape)
    pairs = cross_class_pairs(x, y, k=10, top=5, x_other=other)
    assert (pairs.i[0], pairs.j[0]) == (17, 250)
    assert pairs.cosine[0] > 0.999
    u = other / np.linalg.norm(other, axis=1, keepdims=True)
    assert pairs.cosine_other[0] == pytest.approx(u[17] @ u[250], abs=1e-5)
