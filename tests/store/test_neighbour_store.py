"""lab.store.neighbours: a click reads the stored kNN table (or one search before it exists), and
cross-class pairs are stored with the run."""

from __future__ import annotations

import numpy as np
import pytest

from lab.measures import purity
from lab.measures.neighbours import knn_search
from lab.store import neighbours


def test_a_click_reads_the_same_neighbours_as_a_fresh_faiss_search(run):
    table = neighbours.stored_table(run, "backbone")
    assert table is not None and table.k == neighbours.KNN_K
    nb = neighbours.neighbours_of(run, 7, k=16)
    sims, idx = knn_search(run.features(), 16, query_rows=np.array([7]))
    assert nb.from_table and (nb.rows == idx[0]).all()
    np.testing.assert_allclose(nb.sims, sims[0], atol=1e-5)
    assert 7 not in nb.rows, "the clicked image is not its own neighbour"


def test_neighbours_fall_back_to_a_search_before_the_table_exists(run):
    neighbours.prepare_search(run, "projector")  # as the map page does before the first click
    nb = neighbours.neighbours_of(run, 3, k=8, space="projector")
    assert not nb.from_table and len(nb.rows) == 8
    sims, idx = knn_search(run.features("projector"), 8, query_rows=np.array([3]))
    assert (nb.rows == idx[0]).all(), "the cached index finds what a fresh faiss search finds"
    np.testing.assert_allclose(nb.sims, sims[0], atol=1e-5)
    assert nb.cross_class_share == pytest.approx(nb.other_class.mean())


def test_cross_class_share_is_one_minus_purity():
    labels = np.array([0, 0, 1, 1])
    nb = np.array([[1, 2], [0, 3], [3, 0], [2, 1]])
    np.testing.assert_allclose(purity.cross_class_share(nb, labels), [0.5, 0.5, 0.5, 0.5])
    assert purity.cross_class_share(np.array([1, 0]), labels, rows=2) == 1.0


def test_cross_class_pairs_differ_in_class_and_are_stored(run):
    pairs = neighbours.class_pairs(run, top=20)
    assert (run.labels[pairs.i] != run.labels[pairs.j]).all()
    assert (np.diff(pairs.cosine) <= 1e-6).all(), "best pair first"
    assert not run.is_test[pairs.i].any() and not run.is_test[pairs.j].any(), "training images only"
    np.testing.assert_allclose(purity.pair_cosines(run.features(), pairs.i, pairs.j), pairs.cosine, atol=1e-5)
    assert neighbours.stored_pairs(run, top=20) is not None
