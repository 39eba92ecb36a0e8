"""Tests for lab.papers.zhang2023.analysis and .probes: the cached per-run analyses equal the pure functions they wrap, are
stored atomically and keyed by their parameters, and turn bad runs into clear messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from lab.measures import density as dens
from lab.measures import neighbours
from lab.measures import purity as purity_measures
from lab.measures.features import l2_normalize
from lab.measures.probes.table import probe_table
from lab.papers.zhang2023 import analysis
from lab.papers.zhang2023 import probes as zprobes
from lab.papers.zhang2023.constants import ANALYSIS_VERSION
from lab.store.baselines import BASELINE_VERSION, pixel_baseline_of
from lab.view.labels import run_label


@dataclass
class FakeRun:
    """A run as lab.papers.zhang2023.analysis sees it: a folder, features per space, labels and the split."""

    path: Path
    x: np.ndarray
    labels: np.ndarray
    is_test: np.ndarray
    config: SimpleNamespace

    @property
    def id(self) -> str:
        return self.path.name

    def features(self, space: str = "backbone") -> np.ndarray:
        return self.x if space == "backbone" else 2 * self.x[:, ::-1].copy()


def clustered(n_train=600, n_test=150, classes=4, d=8, spread=0.6, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.arange(n_train) % classes, np.arange(n_test) % classes]
    x = rng.normal(size=(classes, d))[y] * 2 + spread * rng.normal(size=(len(y), d))
    return x.astype(np.float32), y.astype(np.int64), np.r_[np.zeros(n_train, bool), np.ones(n_test, bool)]


def make_run(tmp_path, name="run0", **kw) -> FakeRun:
    x, y, test = clustered(**kw)
    cfg = SimpleNamespace(dataset="toy", subset=None, seed=0, method="simclr")
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    return FakeRun(tmp_path / name, x, y, test, cfg)


@pytest.fixture()
def run(tmp_path):
    return make_run(tmp_path)


# ---------------------------------------------------------------- RLD
def test_run_rld_is_the_geometry_estimate_on_the_training_rows(run):
    res = analysis.run_rld(run, tau=0.2, n=300, draws=3)
    train = ~run.is_test
    ref = dens.rld_subsample(run.x[train], run.labels[train], 0.2, n=300, draws=3)
    np.testing.assert_allclose(res.estimate.values, ref.values, atol=1e-9)
    assert res.estimate.mean == pytest.approx(ref.mean) and res.estimate.std == pytest.approx(ref.std)
    assert res.per_point.sum() == pytest.approx(res.estimate.values[0], abs=1e-9)
    assert not run.is_test[res.rows].any() and len(res.rows) == 300


def test_run_rld_is_read_back_from_the_run_folder(run, monkeypatch):
    first = analysis.run_rld(run, tau=0.5, n=200, draws=2)
    files = list((run.path / "analysis" / f"v{ANALYSIS_VERSION}").glob("rld-backbone-tau0.5-n200-d2-s0.npz"))
    assert len(files) == 1

    def boom(*a, **k):
        raise AssertionError("recomputed instead of read from the cache")

    monkeypatch.setattr(dens, "relative_local_density", boom)
    again = analysis.run_rld(run, tau=0.5, n=200, draws=2)
    np.testing.assert_array_equal(again.estimate.values, first.estimate.values)
    np.testing.assert_array_equal(again.rows, first.rows)


def test_every_parameter_is_part_of_the_cache_key(run):
    a = analysis.run_rld(run, tau=0.2, n=200, draws=2)
    b = analysis.run_rld(run, tau=0.1, n=200, draws=2)
    c = analysis.run_rld(run, "projector", tau=0.2, n=200, draws=2)
    assert a.estimate.mean != b.estimate.mean
    names = sorted(p.name for p in (run.path / "analysis" / f"v{ANALYSIS_VERSION}").iterdir())
    assert names == ["rld-backbone-tau0.1-n200-d2-s0.npz", "rld-backbone-tau0.2-n200-d2-s0.npz",
                     "rld-projector-tau0.2-n200-d2-s0.npz"]  # fmt: skip
    assert c.estimate.n == 200
    assert set(analysis.stored_rld_taus(run, n=200, draws=2)) == {0.2, 0.1}


def test_a_damaged_cache_file_is_recomputed_and_no_temporary_file_is_left(run):
    first = analysis.run_rld(run, tau=0.2, n=200, draws=2)
    path = run.path / "analysis" / f"v{ANALYSIS_VERSION}" / "rld-backbone-tau0.2-n200-d2-s0.npz"
    path.write_bytes(b"not a numpy file")
    again = analysis.run_rld(run, tau=0.2, n=200, draws=2)
    np.testing.assert_allclose(again.estimate.values, first.estimate.values)
    assert not [
        p for p in (run.path / "analysis" / f"v{ANALYSIS_VERSION}").iterdir() if p.name.startswith(".")
    ]


def test_with_fewer_points_than_the_subsample_one_draw_covers_all_training_rows(tmp_path):
    small = make_run(tmp_path, n_train=120, n_test=20)
    res = analysis.run_rld(small, tau=0.2, n=10_000, draws=5)
    assert len(res.estimate.values) == 1 and res.estimate.std == 0.0 and res.estimate.n == 120


# ---------------------------------------------------------------- CHS, purity, layers
def test_chs_and_purity_curve_are_the_geometry_values_of_the_training_rows(run):
    train = ~run.is_test
    assert analysis.run_chs(run) == pytest.approx(dens.calinski_harabasz(run.x[train], run.labels[train]))
    curve = analysis.run_purity_curve(run, ps=(1, 10, 100), n_queries=200)
    ref = purity_measures.purity_curve(run.x[train], run.labels[train], (1, 10, 100), 200)
    np.testing.assert_allclose(curve.overall, ref.overall)
    np.testing.assert_allclose(curve.per_class, ref.per_class)
    again = analysis.run_purity_curve(run, ps=(1, 10), n_queries=200)  # a subset of the stored sizes
    np.testing.assert_allclose(again.overall, ref.overall[:2])


def test_purity_keeps_only_sizes_with_enough_points(tmp_path):
    small = make_run(tmp_path, n_train=40, n_test=10)
    curve = analysis.run_purity_curve(small, ps=(1, 10, 100, 1000))
    assert curve.ps.tolist() == [1, 10]


def test_map_layers_match_the_geometry_functions_on_all_rows(run):
    purity = analysis.run_map_layer(run, layer="purity")
    _, idx = neighbours.knn_search(run.x, 10)
    np.testing.assert_allclose(purity.values, purity_measures.class_purity(idx, run.labels))
    density = analysis.run_map_layer(run, layer="density")
    np.testing.assert_allclose(density.values, dens.knn_density(run.x, 10), rtol=1e-4)
    rld = analysis.run_map_layer(run, layer="rld", tau=0.2)
    res = analysis.run_rld(run, tau=0.2)
    assert rld.values.mean() == pytest.approx(res.estimate.values[0])  # q_i x n: the mean is the RLD
    grid = analysis.map_heatmap(np.random.default_rng(0).normal(size=(len(run.labels), 2)), rld, bins=12)
    assert grid.grid.shape == (12, 12) and grid.counts.sum() == len(rld.rows)
    with pytest.raises(ValueError, match="Unknown layer"):
        analysis.run_map_layer(run, layer="colour")


# ---------------------------------------------------------------- pairs and probes
def test_cross_class_pairs_carry_the_second_runs_cosine(tmp_path):
    a = make_run(tmp_path, "a")
    b = make_run(tmp_path, "b", spread=1.5, seed=0)
    b.labels = a.labels
    pairs = analysis.run_cross_class_pairs(a, b, top=20)
    assert (a.labels[pairs.i] != a.labels[pairs.j]).all()
    assert np.all(np.diff(pairs.cosine) <= 1e-6)
    xb = l2_normalize(b.x)
    np.testing.assert_allclose(pairs.cosine_other, (xb[pairs.i] * xb[pairs.j]).sum(1), atol=1e-5)
    other = make_run(tmp_path, "c", n_train=300)
    with pytest.raises(ValueError, match="different images"):
        analysis.run_cross_class_pairs(a, other)


def test_probe_table_equals_lab_probes_and_is_cached(run, monkeypatch):
    names = ("linear", "knn", "gcn-labels")
    rows = zprobes.run_probe_table(run, budgets=(0.1, 1.0), probe_names=names, steps=10)
    train = ~run.is_test
    ref = probe_table(run.x[train], run.labels[train], run.x[~train], run.labels[~train],
                             budgets=(0.1, 1.0), probes=names, steps=10)  # fmt: skip
    assert [(r["probe"], r["budget"]) for r in rows] == [(r["probe"], r["budget"]) for r in ref]
    for mine, theirs in zip(rows, ref, strict=True):
        assert mine["accuracy"] == pytest.approx(theirs["accuracy"])
        assert (mine["ci_low"], mine["ci_high"]) == pytest.approx((theirs["ci_low"], theirs["ci_high"]))
        assert mine["features"] == "simclr · toy (run0)"
    import lab.measures.probes.table as table

    monkeypatch.setattr(
        table, "linear_probe", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed"))
    )
    assert zprobes.run_probe_table(run, budgets=(1.0,), probe_names=names, steps=10) == rows[len(names) :]


def test_a_budget_with_too_few_labels_gives_a_note_not_a_crash(tmp_path):
    small = make_run(tmp_path, n_train=60, n_test=20)
    rows = zprobes.run_probe_table(small, budgets=(0.01, 1.0), probe_names=("linear", "knn"))
    low = [r for r in rows if r["budget"] == 0.01]
    assert all(r["accuracy"] is None and "per class" in r["note"] for r in low)
    assert all(r["accuracy"] is not None for r in rows if r["budget"] == 1.0)


# ---------------------------------------------------------------- bad input
def test_bad_runs_are_named_in_plain_words(tmp_path):
    nan_run = make_run(tmp_path, "nan")
    nan_run.x = nan_run.x.copy()
    nan_run.x[:3, 0] = np.nan
    assert "NaN" in analysis.run_problems(nan_run)[0]
    with pytest.raises(ValueError, match="NaN"):
        analysis.run_rld(nan_run, tau=0.2)
    one = make_run(tmp_path, "one")
    one.labels = np.zeros_like(one.labels)
    assert "one class" in analysis.run_problems(one)[0]
    with pytest.raises(ValueError, match="single class"):
        analysis.run_chs(one)
    with pytest.raises(ValueError, match="tau must be > 0"):
        analysis.run_rld(make_run(tmp_path, "ok"), tau=0.0)
    assert analysis.run_problems(make_run(tmp_path, "fine")) == []


def test_the_pixel_baseline_is_a_run_with_the_same_rows(tmp_path):
    from lab.core.data import load_dataset

    ds = load_dataset("digits")
    n_train, n_test = len(ds.train_labels), len(ds.test_labels)
    labels = np.r_[ds.train_labels.numpy(), ds.test_labels.numpy()]
    cfg = SimpleNamespace(dataset="digits", subset=None, seed=0, method="simclr")
    (tmp_path / "r").mkdir()
    run = FakeRun(tmp_path / "r", np.zeros((len(labels), 2), np.float32), labels,
                  np.r_[np.zeros(n_train, bool), np.ones(n_test, bool)], cfg)  # fmt: skip
    pixels = pixel_baseline_of(run)
    assert pixels.features().shape == (n_train + n_test, 64)
    assert run_label(pixels) == "pixels (PCA-64)"
    assert pixels.path == tmp_path / "_baselines" / f"digits-all-0-v{BASELINE_VERSION}"
    assert (
        analysis.run_chs(pixels) > 0
        and (pixels.path / "analysis" / f"v{ANALYSIS_VERSION}" / "chs-backbone.json").is_file()
    )
