"""lab.measures.neighbours and features: exact cosine search that never returns the query itself, a
prebuilt index, the approximate graph for UMAP, stratified subsamples."""

import numpy as np
import pytest
from constructed import clustered

from lab.measures import neighbours
from lab.measures.features import l2_normalize, search_backend_for, stratified_subsample
from lab.measures.neighbours import approx_knn_graph, cosine_index, knn_search


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


def test_the_torch_search_finds_what_faiss_finds(monkeypatch):
    x, _ = clustered(n=600)
    q = np.random.default_rng(1).normal(size=(300, x.shape[1])).astype(np.float32)
    index = cosine_index(x)
    qn = l2_normalize(q)
    monkeypatch.setattr(neighbours, "TORCH_BLOCK_ENTRIES", 64 * len(x))  # five blocks of 64 queries
    f_sims, f_idx = neighbours.flat_search(index, qn, 7, None, backend="faiss")
    t_sims, t_idx = neighbours.flat_search(index, qn, 7, None, backend="torch")
    np.testing.assert_allclose(t_sims, f_sims, atol=1e-5)
    assert t_idx.dtype == np.int64 and (t_idx == f_idx).mean() > 0.99  # only near-ties may swap


def test_a_search_on_the_torch_backend_still_excludes_the_point_itself(monkeypatch):
    x, _ = clustered(n=300, d=64)
    x = np.concatenate([x, x[:10]])  # 310 rows, above TORCH_MIN_QUERIES; rows 0..9 twice
    ref = knn_search(x, 5)
    monkeypatch.setattr(neighbours, "exact_search_backend", lambda: "torch")
    assert [neighbours.search_backend(len(x), d, k) for d, k in [(64, 6), (64, 129), (128, 1001), (32, 6)]] == [
        "torch", "faiss", "torch", "faiss"]  # fmt: skip
    assert neighbours.search_backend(255, 256, 6) == "faiss"  # few queries
    sims, idx = knn_search(x, 5)
    assert not (idx == np.arange(len(x))[:, None]).any()
    assert set(idx[0]) >= {300} and set(idx[300]) >= {0}  # each duplicate finds the other, not itself
    np.testing.assert_allclose(sims, ref[0], atol=1e-5)


@pytest.mark.parametrize(
    "core, capability, backend",
    [("Prescott", "AVX512", "torch"), ("Core2", "AVX2", "torch"), ("SkylakeX", "AVX512", "faiss"),
     ("Haswell", "AVX2", "faiss"), ("Prescott", "DEFAULT", "faiss"), (None, "AVX512", "faiss")],
)  # fmt: skip
def test_torch_takes_over_only_where_faiss_blas_runs_generic_kernels(core, capability, backend):
    assert search_backend_for(core, capability) == backend
