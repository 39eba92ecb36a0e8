"""lab.measures.density: RLD against a dense N x N reference written from the definition, its invariants
and spread over draws, CHS, kNN density and the density grid (Zhang, Lu & Xuan 2023; docs/science.md)."""

import numpy as np
import pytest
from constructed import clustered
from scipy.spatial.distance import pdist, squareform
from scipy.special import logsumexp

from lab.measures.density import (
    calinski_harabasz,
    density_grid,
    knn_density,
    relative_local_density,
    rld_subsample,
)
from lab.measures.neighbours import knn_search
from lab.measures.purity import cross_class_pairs, purity_curve
from lab.papers.zhang2023.toys import toy_clouds


def dense_rld(x, y, tau, normalize=True):
    """The spec's definition, written out with an N x N matrix in float64."""
    x = x.astype(np.float64)
    if normalize:
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = pdist(x)
    s = -squareform(d) / d.mean() / tau
    np.fill_diagonal(s, -np.inf)
    p = np.exp(s - logsumexp(s, axis=1, keepdims=True))  # P(j|i)
    w = p * p.T
    k, two_m = w.sum(1), w.sum()
    return ((w - np.outer(k, k) / two_m) * (y[:, None] == y[None, :])).sum() / two_m


@pytest.mark.parametrize("block", [1, 7, 64, 1000])
@pytest.mark.parametrize("tau", [1.0, 0.2, 0.05])
def test_blocked_rld_equals_the_dense_reference(block, tau):
    x, y = clustered(n=300)
    assert relative_local_density(x, y, tau, block=block).value == pytest.approx(
        dense_rld(x, y, tau), abs=1e-6
    )


def test_blocked_rld_equals_the_dense_reference_on_raw_coordinates():
    x, y = toy_clouds("micro-clusters", n_per_class=60)
    got = relative_local_density(x, y, 0.05, block=50, normalize=False).value
    assert got == pytest.approx(dense_rld(x, y, 0.05, normalize=False), abs=1e-6)


def test_rld_with_random_labels_is_about_zero():
    x, y = clustered(n=1000)
    shuffled = np.random.default_rng(1).permutation(y)
    assert relative_local_density(x, y, 0.2).value > 0.5
    assert relative_local_density(x, shuffled, 0.2).value == pytest.approx(0.0, abs=0.02)


def test_per_point_rld_sums_to_the_total_and_follows_the_original_row_order():
    x, y = clustered(n=400)
    perm = np.random.default_rng(2).permutation(len(y))
    r = relative_local_density(x[perm], y[perm], 0.2, per_point=True, block=100)
    assert r.per_point.shape == (400,)
    assert r.per_point.sum() == pytest.approx(r.value, abs=1e-9)
    unpermuted = relative_local_density(x, y, 0.2, per_point=True).per_point
    np.testing.assert_allclose(r.per_point, unpermuted[perm], atol=1e-8)


@pytest.mark.parametrize("normalize", [True, False])
def test_rld_is_invariant_to_rescaling_the_features(normalize):
    x, y = clustered(n=300)
    a = relative_local_density(x, y, 0.2, normalize=normalize).value
    b = relative_local_density(x * 37.5, y, 0.2, normalize=normalize).value
    assert a == pytest.approx(b, abs=1e-6)


def test_rld_subsample_reports_the_spread_over_draws():
    x, y = clustered(n=2000, spread=2.0)
    est = rld_subsample(x, y, 0.2, n=500, draws=4)
    assert est.values.shape == (4,) and est.n == 500
    assert est.mean == pytest.approx(est.values.mean())
    assert 0 < est.std < 0.05
    assert est.mean == pytest.approx(relative_local_density(x, y, 0.2).value, abs=0.05)


def test_knn_density_is_higher_inside_a_tight_cluster():
    rng = np.random.default_rng(0)
    tight = np.array([1.0, 0, 0]) + 0.01 * rng.normal(size=(50, 3))
    loose = rng.normal(size=(50, 3))
    dens = knn_density(np.concatenate([tight, loose]).astype(np.float32), k=10)
    assert np.isfinite(dens).all()
    assert dens[:50].min() > dens[50:].max()


def test_density_grid_averages_values_per_cell_and_marks_empty_cells():
    xy = np.array([[0.0, 0.0], [0.4, 0.4], [1.0, 0.2], [1.0, 1.0]])  # cell edges 0, 0.5, 1
    g = density_grid(xy, np.array([1.0, 3.0, 5.0, 7.0]), bins=2)
    assert g.grid[0, 0] == pytest.approx(2.0)  # rows = y bins, columns = x bins
    assert g.grid[0, 1] == pytest.approx(5.0)
    assert g.grid[1, 1] == pytest.approx(7.0)
    assert np.isnan(g.grid[1, 0]) and g.counts.sum() == 4


def test_calinski_harabasz_matches_sklearn_sense():
    x, y = clustered(n=300, spread=0.1)
    assert calinski_harabasz(x, y) > calinski_harabasz(x, np.random.default_rng(0).permutation(y))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, y: relative_local_density(x, y, 0.0), "tau must be > 0"),
        (lambda x, y: relative_local_density(x, np.zeros(len(x), int), 0.2), "single class"),
        (lambda x, y: relative_local_density(x, y[:-1], 0.2), "one entry per row"),
        (lambda x, y: relative_local_density(np.where(x > 2, np.nan, x), y, 0.2), "NaN or inf"),
        (lambda x, y: relative_local_density(x * 0, y, 0.2), "all zero"),
        (lambda x, y: knn_search(x, len(x)), "use k <= 29"),
        (lambda x, y: purity_curve(x, y, ps=(1, 100)), "use k <= 29"),
        (lambda x, y: cross_class_pairs(x, y, k=5, x_other=x[:-1]), "same images"),
        (lambda x, y: toy_clouds("spiral"), "Choose one of"),
        (lambda x, y: density_grid(x[:, :2], np.full(len(x), np.inf)), "NaN or inf"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, message):
    x, y = clustered(n=30, d=4, classes=3, spread=1.0)
    with pytest.raises(ValueError, match=message):
        call(x, y)
