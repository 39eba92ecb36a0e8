"""lab.measures.maps: map fidelity and 2-D class purity on constructed data, and the layout's progress."""

from __future__ import annotations

import numpy as np
import pytest

from lab.measures import maps as measure_maps
from lab.measures.neighbours import knn_search


def test_neighbours_kept_is_one_for_the_data_itself_and_near_chance_for_a_shuffled_map():
    from sklearn.neighbors import NearestNeighbors

    x = np.random.default_rng(0).normal(size=(3000, 2)).astype(np.float32)
    idx = NearestNeighbors(n_neighbors=15).fit(x).kneighbors(x, return_distance=False)[:, 1:]  # self dropped
    assert measure_maps.neighbours_kept(idx, x, queries=1000) == pytest.approx(1.0)
    shuffled = np.random.default_rng(1).permutation(x)
    assert measure_maps.neighbours_kept(idx, shuffled, queries=1000) < 0.02  # chance is 14 / 3000


def test_the_map_layout_reports_its_progress_to_the_end():
    from lab.worker.manager import Job, _apply

    x = np.random.default_rng(0).normal(size=(600, 8)).astype(np.float32)
    sims, idx = knn_search(x, measure_maps.N_NEIGHBORS)
    seen = []
    measure_maps.umap_2d(x, knn=(idx, sims), epochs=50, progress=lambda f, left: seen.append((f, left)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and seen[-1][1] == 0.0
    job = Job("r/map/backbone", "map", "map")  # how the app shows it: a share done and a message
    _apply(job, {"event": "fraction", "fraction": 0.5, "text": "Laying out 600 points with UMAP: 50% done"})
    assert job.fraction == 0.5 and job.message.endswith("50% done")


def test_map_class_purity_is_one_for_separate_clusters_and_chance_for_mixed_labels():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 500)
    centres = 50 * np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float32)
    xy = centres[labels] + rng.normal(size=(2000, 2)).astype(np.float32)
    assert measure_maps.map_class_purity(xy, labels, queries=500) == pytest.approx(1.0)
    mixed = measure_maps.map_class_purity(xy, rng.permutation(labels), queries=500)
    assert abs(mixed - 0.25) < 0.03  # chance: 1 in 4
