"""Tests for lab.measures (density, neighbours, purity) and the paper's toys: RLD against the paper's toy values and a dense reference, purity,
cross-class pairs, densities and input checks (Zhang, Lu & Xuan 2023, spec Sec. 3)."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.special import logsumexp

from lab.measures.density import (
    calinski_harabasz,
    density_grid,
    knn_density,
    relative_local_density,
    rld_subsample,
)
from lab.measures.features import stratified_subsample
from lab.measures.neighbours import approx_knn_graph, cosine_index, knn_search
from lab.measures.purity import class_purity, cross_class_pairs, purity_curve
from lab.papers.zhang2023.toys import toy_clouds, toy_scores


def clustered(n=300, d=16, classes=4, spread=1.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, d)) * 3
    y = np.arange(n) % classes
    return (centres[y] + spread * rng.normal(size=(n, d))).astype(np.float32), y


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


SPEC_TOY_RLD = {"uniform": 0.00, "gaussians": 0.79, "micro-clusters": 0.72, "rings": 0.75, "lines": 0.74}


@pytest.mark.parametrize("kind", SPEC_TOY_RLD)
@pytest.mark.parametrize("seed", [0, 1])
def test_rld_reproduces_the_papers_toy_values(kind, seed):
    assert toy_scores(kind, tau=0.05, seed=seed)["rld"] == pytest.approx(SPEC_TOY_RLD[kind], abs=0.03)


def test_toys_need_raw_coordinates_because_normalising_2d_points_destroys_rings():
    x, y = toy_clouds("rings")
    assert relative_local_density(x, y, 0.05, normalize=True).value == pytest.approx(0.0, abs=0.03)


def test_chs_collapses_on_toys_where_rld_stays_high():
    assert toy_scores("gaussians")["chs"] > 1e3
    assert toy_scores("rings")["chs"] < 10


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


def test_stratified_subsample_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    rows = stratified_subsample(y, 100, seed=3)
    assert len(rows) == 100 and len(np.unique(rows)) == 100
    assert np.bincount(y[rows]).tolist() == [50, 30, 20]


def test_knn_search_excludes_the_point_itself_even_among_duplicates():
    x, _ = clustered(n=50)
    x = np.concatenate([x, x[:5], x[:5]])  # rows 0..4 appear three times
    sims, idx = knn_search(x, 4)
    assert idx.shape == (60, 4)
    assert not (idx == np.arange(60)[:, None]).any()
    assert np.all(np.diff(sims, axis=1) <= 1e-6)
    _, idx_q = knn_search(x, 4, query_rows=np.array([0, 50]))
    assert 0 not in idx_q[0] and 50 not in idx_q[1]


def test_a_prebuilt_index_gives_the_same_neighbours_and_refuses_other_features():
    x, _ = clustered(n=80)
    x = np.concatenate([x, x[:3]])  # duplicates: the point itself is still excluded
    rows = np.array([0, 5, 80])
    index = cosine_index(x)
    sims, idx = knn_search(x, 6, query_rows=rows, index=index)
    ref_sims, ref_idx = knn_search(x, 6, query_rows=rows)
    assert (idx == ref_idx).all() and not (idx == rows[:, None]).any()
    np.testing.assert_allclose(sims, ref_sims, atol=1e-6)
    with pytest.raises(ValueError, match="the index holds 83 x"):
        knn_search(x[:-1], 6, query_rows=rows[:2], index=index)
    with pytest.raises(ValueError, match="k=83"):
        knn_search(x, 83, query_rows=rows, index=index)


def test_approximate_graph_finds_most_exact_neighbours_and_never_the_point_itself():
    x, _ = clustered(n=6000, d=32, classes=20, spread=1.0)
    sims, idx = approx_knn_graph(x, 14)
    assert idx.shape == sims.shape == (6000, 14) and idx.min() >= 0
    assert not (idx == np.arange(6000)[:, None]).any()
    _, exact = knn_search(x, 14)
    recall = np.mean([len(set(a) & set(b)) / 14 for a, b in zip(idx, exact, strict=True)])
    assert 0.9 < recall <= 1.0
    # the similarities are the true cosines of the pairs returned
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(sims[:50], np.einsum("id,ikd->ik", xn[:50], xn[idx[:50]]), atol=1e-5)


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
