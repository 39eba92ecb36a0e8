"""The kNN-graph page's numbers (lab.papers.sag2025.graphview, figures) and the cached global structure
(analysis), on a constructed representation: ten tight clusters, one per class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lab.papers.sag2025 import analysis, graphview
from lab.papers.sag2025.figures import endpoint_figure, graph_figure, replay_figure
from lab.store.neighbours import neighbour_table


class Clusters:
    """Looks like a run to the graph functions: features, labels, split, a folder for its caches."""

    def __init__(self, path: Path, per_class: int = 60, spread: float = 0.05, dataset: str = "digits"):
        rng = np.random.default_rng(0)
        self.labels = np.repeat(np.arange(10), per_class)
        self._x = (np.eye(10)[self.labels] + spread * rng.normal(size=(len(self.labels), 10))).astype(
            np.float32
        )
        self.is_test = np.arange(len(self.labels)) % 2 == 1
        self.path, self.dataset, self.metrics = path, dataset, {}

    def features(self, space: str = "backbone") -> np.ndarray:
        return self._x


@pytest.fixture()
def rep(tmp_path):
    r = Clusters(tmp_path)
    neighbour_table(r)
    return r


def test_the_neighbourhood_starts_at_the_image_and_stays_in_its_cluster(rep):
    nb = graphview.neighbourhood(rep, 7, k=5, max_nodes=40)
    assert nb.rows[0] == 7 and nb.hops[0] == 0 and len(nb.rows) == 40
    assert (nb.labels == rep.labels[7]).all() and nb.stats.cross_class_share == 0.0
    assert nb.edges.max() < 40 and (nb.edges[:, 0] < nb.edges[:, 1]).all()


def test_the_neighbourhood_needs_the_stored_table_and_a_real_row(tmp_path):
    bare = Clusters(tmp_path)
    with pytest.raises(ValueError, match="kNN table is not stored yet"):
        graphview.neighbourhood(bare, 0)
    neighbour_table(bare)
    with pytest.raises(ValueError, match="outside this run's 600 images"):
        graphview.neighbourhood(bare, 600)


def test_walks_start_at_the_image_and_end_in_its_class_inside_a_pure_cluster(rep):
    nb = graphview.neighbourhood(rep, 3, k=5, max_nodes=50)
    w = graphview.walks_from(rep, nb, k=5, t=3, n_walks=20, seed=1)
    assert w.paths.shape == (20, 4) and (w.paths[:, 0] == 0).all() and w.paths.max() < len(nb.rows)
    assert w.precision == 1.0 and w.end_counts.sum() == 20 and w.end_counts[rep.labels[3]] == 20
    assert 0 <= w.return_probability <= 1 and 0 <= w.mean_return <= 1
    with pytest.raises(ValueError, match="at least 1 step"):
        graphview.walks_from(rep, nb, t=0)


def test_the_figures_draw_numbered_walks_and_cross_class_edges_apart(rep):
    nb = graphview.neighbourhood(rep, 3, k=5, max_nodes=50)
    w = graphview.walks_from(rep, nb, n_walks=4)
    names = [str(c) for c in range(10)]
    fig = graph_figure(nb, graphview.positions(nb, "force"), w.paths, names, "t")
    traces = [t.name for t in fig.data]
    assert {"same-class edge", "cross-class edge", "selected image", "walk 1", "walk 4"} <= set(traces)
    assert fig.data[traces.index("walk 1")].text[1:] == ("1", "2")  # each step numbered
    replay = replay_figure(
        np.random.default_rng(0).normal(size=(600, 2)), rep.labels, np.array([[0, 1, 2]]), names, "r"
    )
    assert "walk 1" in [t.name for t in replay.data]
    assert len(endpoint_figure(w.end_counts, names, 3, "e").data[0].y) == 10


def test_training_walks_are_read_from_a_sag_runs_metrics(rep):
    assert graphview.training_walks(rep) is None
    rep.metrics = {"method": {"walks": [[0, 1, 2], [60, 61, 5]], "walk_precision": 0.6}}
    logged = graphview.training_walks(rep)
    assert logged.rows.shape == (2, 3) and logged.precision == 0.5 and logged.run_precision == 0.6


def test_global_structure_is_computed_once_and_cached(tmp_path):
    rep = Clusters(tmp_path)
    first = analysis.run_structure(rep)
    assert first["m1"]["auc"] is not None and -1 <= first["m2"]["spearman"] <= 1 and first["n"] == 300
    assert analysis.stored_structure(rep) == first
    row = analysis.structure_row("clusters", {"knn_acc": 0.9}, first)
    assert row["M1 cophenetic"] == first["m1"]["cophenetic"] and row["walk precision"] is None


def test_a_dataset_without_a_tree_has_no_m1(tmp_path):
    first = analysis.run_structure(Clusters(tmp_path, dataset="cifar100"))
    assert first["m1"] is None and "no superclass tree" in first["tree"]
