"""lab.store.maps: a run's map is laid out once, stored with its fidelity, and loaded after."""

from __future__ import annotations

import numpy as np
import pytest

from lab.measures import maps as measure_maps
from lab.store import maps as store_maps


def test_the_map_is_stored_once_and_loaded_after(run):
    path = store_maps.map_path(run, "backbone")
    assert path.is_file()
    before = path.stat().st_mtime_ns
    xy = store_maps.run_map(run, "backbone")
    assert xy.shape == (len(run.labels), 2) and np.isfinite(xy).all()
    assert path.stat().st_mtime_ns == before


def test_a_stored_map_has_its_fidelity_beside_it(run):
    fid = store_maps.stored_fidelity(run, "backbone")
    assert fid is not None and fid["k"] == measure_maps.N_NEIGHBORS - 1 and fid["queries"] == len(run.labels)
    # a trained digits model's map keeps a good share of each image's neighbours, far above chance
    assert 14 / len(run.labels) * 5 < fid["neighbours_kept"] <= 1.0


def test_a_map_stored_without_its_fidelity_gets_it_from_the_knn_table(run):
    path = store_maps.fidelity_path(run, "backbone")
    stored = store_maps.stored_fidelity(run, "backbone")
    path.unlink()
    fid = store_maps.map_fidelity(run, "backbone")
    assert fid["graph"] == "exact" and path.is_file()
    assert fid["neighbours_kept"] == pytest.approx(
        stored["neighbours_kept"], abs=0.05
    )  # same map, exact graph
