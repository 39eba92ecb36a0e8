"""Tests for lab.measures.probes: the GCN probe recovers graph-shaped labels a linear probe cannot,
selection never reads test labels, and the graph, budgets and intervals do what they say."""

import numpy as np
import pytest
import torch

from lab.measures.features import l2_normalize, mean_pairwise_distance
from lab.measures.neighbours import knn_search
from lab.measures.probes.common import bootstrap_interval, holdout_split, label_budget
from lab.measures.probes.gcn import gcn_probe, rld_graph, row_lse_estimate
from lab.measures.probes.knn import knn_probe
from lab.measures.probes.linear import linear_probe
from lab.measures.probes.table import probe_table


def spirals(n_per_class=300, turns=1.5, noise=0.02, seed=0):
    """Two interleaved spirals in the plane, lifted to (x, y, 1) so that unit-length normalisation
    keeps the neighbourhoods and a linear probe on the sphere equals an affine one in the plane."""
    rng = np.random.default_rng(seed)
    pts, ys = [], []
    for c in range(2):
        t = np.sqrt(rng.uniform(0, 1, n_per_class)) * turns * 2 * np.pi
        r = t / (turns * 2 * np.pi)
        p = np.stack([r * np.cos(t + c * np.pi), r * np.sin(t + c * np.pi)], 1)
        pts.append(p + noise * rng.normal(size=p.shape))
        ys.append(np.full(n_per_class, c))
    x = np.concatenate([np.concatenate(pts), np.ones((2 * n_per_class, 1))], 1).astype(np.float32)
    perm = rng.permutation(len(x))
    return x[perm], np.concatenate(ys)[perm]


@pytest.fixture(scope="module")
def split():
    x, y = spirals()
    return x[:400], y[:400], x[400:], y[400:]


def test_gcn_beats_the_linear_probe_when_labels_follow_the_graph(split):
    linear = linear_probe(*split)
    gcn = gcn_probe(*split, variant="labels", tau=0.1)
    assert linear.accuracy < 0.75  # spirals are not linearly separable
    assert gcn.accuracy > 0.95
    assert gcn.accuracy - linear.accuracy > 0.2


def test_gcn_step_selection_never_reads_test_labels(split):
    x_tr, y_tr, x_te, y_te = split
    true = gcn_probe(x_tr, y_tr, x_te, y_te, tau=0.1, steps=40)
    wrong = gcn_probe(x_tr, y_tr, x_te, 1 - y_te, tau=0.1, steps=40)  # would flip any test-based choice
    blind = gcn_probe(x_tr, y_tr, x_te, None, tau=0.1, steps=40)
    assert true.chosen == wrong.chosen == blind.chosen
    np.testing.assert_array_equal(true.predictions, wrong.predictions)
    np.testing.assert_array_equal(true.predictions, blind.predictions)
    assert blind.accuracy is None
    assert true.accuracy == pytest.approx(1 - wrong.accuracy)  # labels are read only to score


def test_features_variant_runs_on_the_same_graph_and_selects_by_val(split):
    r = gcn_probe(*split, variant="features", tau=0.1, steps=30, eval_every=10)
    assert r.probe == "gcn-features" and r.chosen["step"] in (10, 20, 30)
    assert 0.5 < r.accuracy <= 1.0 and 0 <= r.chosen["val_accuracy"] <= 1


def test_label_budget_is_class_balanced_seeded_and_full_at_one():
    y = np.repeat([0, 1, 2], [600, 300, 100])
    rows = label_budget(y, 0.03, seed=1)
    assert np.bincount(y[rows]).tolist() == [10, 10, 10]
    np.testing.assert_array_equal(rows, label_budget(y, 0.03, seed=1))
    assert not np.array_equal(rows, label_budget(y, 0.03, seed=2))
    np.testing.assert_array_equal(label_budget(y, 1.0), np.arange(1000))


def test_holdout_split_keeps_every_class_on_both_sides():
    y = np.repeat([0, 1], [50, 3])
    fit, val = holdout_split(y, 0.1, seed=0)
    assert set(y[fit]) == set(y[val]) == {0, 1}
    assert len(np.intersect1d(fit, val)) == 0 and len(fit) + len(val) == 53


def test_linear_probe_picks_c_from_its_grid_on_separable_features():
    rng = np.random.default_rng(0)
    y = np.arange(300) % 3
    x = (np.eye(8)[y] * 3 + rng.normal(size=(300, 8))).astype(np.float32)
    r = linear_probe(x[:200], y[:200], x[200:], y[200:], cs=(0.01, 1.0, 100.0))
    assert r.chosen["C"] in (0.01, 1.0, 100.0)
    assert r.accuracy > 0.9 and r.predictions.shape == (100,)


def test_knn_probe_equals_a_brute_force_weighted_vote():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 6)).astype(np.float32), rng.integers(0, 4, 200)
    r = knn_probe(x[:150], y[:150], x[150:], y[150:], k=7, t=0.07)
    tr, te = l2_normalize(x[:150]), l2_normalize(x[150:])
    sims = te @ tr.T
    expected = []
    for row in sims:
        top = np.argsort(-row)[:7]
        expected.append(np.bincount(y[:150][top], weights=np.exp(row[top] / 0.07), minlength=4).argmax())
    np.testing.assert_array_equal(r.predictions, expected)


def test_sparse_graph_row_normaliser_is_close_to_the_exact_log_sum_exp():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 16))
    x = l2_normalize((centres[np.arange(3000) % 5] + rng.normal(size=(3000, 16))).astype(np.float32))
    scale = 1 / (mean_pairwise_distance(x) * 0.2)
    sims, idx = knn_search(x, 50)
    t_knn = np.sqrt(np.maximum(2 - 2 * sims.astype(np.float64), 0)) * -scale
    t = torch.cdist(torch.from_numpy(x).double(), torch.from_numpy(x).double()) * -scale
    exact = torch.logsumexp(t.fill_diagonal_(-np.inf), 1).numpy()
    assert np.abs(row_lse_estimate(x, scale, t_knn, idx) - exact).mean() < 0.03  # ~3 % per edge


def test_sparse_graph_is_symmetric_normalised_and_close_to_the_dense_one_on_its_edges():
    x, _ = spirals(n_per_class=150)
    dense = rld_graph(x, 0.1)
    sparse = rld_graph(x, 0.1, k=299, dense_max=0).to_dense()  # every edge kept: only lse is sampled
    assert torch.allclose(sparse, sparse.T, atol=1e-7)
    assert (dense.diagonal() == 0).all() and (sparse.diagonal() == 0).all()
    assert torch.allclose(sparse, dense, rtol=0.05, atol=1e-6)


def test_bootstrap_interval_brackets_the_accuracy_and_narrows_with_more_points():
    small = bootstrap_interval(np.arange(100) % 5 != 0)
    large = bootstrap_interval(np.arange(10_000) % 5 != 0)
    assert small[0] < 0.8 < small[1] and large[0] < 0.8 < large[1]
    assert large[1] - large[0] < (small[1] - small[0]) / 5


def test_probe_table_runs_every_probe_at_every_budget_on_shared_splits(split):
    rows = probe_table(*split, budgets=(0.1, 1.0), probes=("linear", "knn", "gcn-labels"), tau=0.1, steps=40)
    assert [(r["budget"], r["probe"]) for r in rows] == [
        (b, p) for b in (0.1, 1.0) for p in ("linear", "knn", "gcn-labels")
    ]
    assert all(r["ci_low"] <= r["accuracy"] <= r["ci_high"] for r in rows)
    assert {r["n_labels"] for r in rows if r["budget"] == 0.1} == {40}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: gcn_probe(*s, variant="pixels"), "Unknown GCN variant"),
        (lambda s: gcn_probe(*s, budget=0.0), "budget is the fraction"),
        (lambda s: gcn_probe(*s, budget=0.005), "need at least 2 per class"),
        (lambda s: gcn_probe(*s, graph=torch.zeros(3, 3)), "rebuild it"),
        (lambda s: gcn_probe(*s, tau=-1), "tau must be > 0"),
        (lambda s: linear_probe(s[0], s[1], s[2][:, :2], s[3]), "use one encoder"),
        (lambda s: knn_probe(s[0], s[1][:-1], s[2], s[3]), "one entry per row"),
        (lambda s: knn_probe(s[0][:10], s[1][:10], s[2], s[3], k=20), "use k <= 10"),
        (lambda s: probe_table(*s, probes=("svm",)), "Unknown probe"),
    ],
)
def test_bad_inputs_raise_clear_errors(split, call, message):
    with pytest.raises(ValueError, match=message):
        call(split)


def test_label_propagation_beats_chance_at_a_tiny_budget_when_labels_reach_the_graph():
    """Ten tight clusters of 60, three labels known per class (two to fit, one to select): every image
    has a fit label of its class near it, and the label-input GCN labels almost all of them."""
    from constructed import clustered

    x, y = clustered(n=600, d=16, classes=10, spread=0.05, seed=3)
    r = gcn_probe(x[:400], y[:400], x[400:], y[400:], "labels", tau=0.1, budget=0.075, steps=60)
    assert r.chosen["n_labels"] == 30 and r.accuracy > 0.6  # chance is 0.1


def test_a_budget_the_label_gcn_cannot_learn_from_is_refused_with_the_budget_that_would_do():
    """The cause of GCN accuracy 0.094 at 1 % labels of a 2,000-image subset: 2 labels per class, one
    held out, leaves one to fit on; hidden, it has no label of its class near it, so nothing is learned.
    And labels that reach too few images leave the rest with one class."""
    from constructed import clustered

    from lab.measures.probes.gcn import check_label_reach

    x, y = clustered(n=600, d=16, classes=10, spread=0.05, seed=3)
    with pytest.raises(
        ValueError, match="budget 5% leaves 1 label.* at least 2 per class: a budget of 10% does here"
    ):
        check_label_reach(x[:400], y[:400], x[400:], budget=0.05)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8000, 8)).astype(np.float32)  # classes mixed all over one cloud
    y = np.arange(8000) % 10
    with pytest.raises(
        ValueError,
        match=r"budget 0.5% leaves 20 labels to fit on, and only \d+% .*: a budget of 1% does here",
    ):
        check_label_reach(x[:6000], y[:6000], x[6000:], budget=0.005)
    check_label_reach(x[:6000], y[:6000], x[6000:], budget=0.1)  # enough labels: no error
    rows = probe_table(
        x[:6000], y[:6000], x[6000:], y[6000:], budgets=(0.005,), probes=("knn", "gcn-labels"), steps=5
    )
    assert (
        rows[0]["accuracy"] is not None
        and rows[1]["accuracy"] is None
        and "nearest neighbours" in rows[1]["note"]
    )
