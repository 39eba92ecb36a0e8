"""Snapshots during training (lab.core.snapshots, the trainer, Run.snapshots), the probes of every label set
(lab.store.label_probes) and the subclass curve over training (lab.papers.xue2023.probes): snapshots are
taken N times evenly over training on a fixed class-balanced probe set, the last one is the stored
features, they read back from disk; a probe reads off what constructed features encode, cached; a curve
needs fine labels and shows a collapse built into the snapshots."""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from tiny import TINY

from lab.core import snapshots as snapshots_module
from lab.core.config import TrainConfig
from lab.core.snapshots import Snapshots, snapshot_rows, snapshot_steps
from lab.core.train import train
from lab.papers.xue2023.probes import subclass_curve
from lab.store.label_probes import label_probes, probe_value
from lab.store.run import Run
from lab.store.runs import RunStore

PROBE_SET = 200  # the probe set of the trained run below (the lab's is 5,000, more than digits holds)
SNAP_CFG = dict(TINY, subset=300, epochs=2, batch_size=64, width=8, embedding_size=16, snapshots=3)


@pytest.fixture(scope="module")
def snap_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xue-snapshot-runs")


@pytest.fixture(scope="module")
def snap_run(snap_root):
    """A tiny digits run with 3 snapshots of a 200-image probe set (300 training images, 8 steps)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(snapshots_module, "snapshot_rows", functools.partial(snapshot_rows, n=PROBE_SET))
        run, stored = RunStore(snap_root).get_or_train(TrainConfig(**SNAP_CFG), defer_scores=True)
    assert not stored
    return run


# ---------------------------------------------------------------- the schedule and the probe set
def test_snapshot_steps_are_even_over_training_and_end_at_the_last_step():
    assert snapshot_steps(10, 4) == [2, 5, 8, 10]
    assert snapshot_steps(100, 5) == [20, 40, 60, 80, 100]
    assert snapshot_steps(3, 5) == [1, 2, 3]  # more snapshots than steps: one after each step
    assert snapshot_steps(7, 0) == []


def test_the_probe_set_is_class_balanced_seeded_and_sorted():
    labels = np.repeat(np.arange(5), [100, 400, 60, 300, 140])  # unbalanced classes
    rows = snapshot_rows(labels, n=250, seed=3)
    assert np.bincount(labels[rows]).tolist() == [50] * 5
    assert np.array_equal(rows, np.unique(rows))  # sorted, no repeats
    assert np.array_equal(rows, snapshot_rows(labels, n=250, seed=3))
    assert not np.array_equal(rows, snapshot_rows(labels, n=250, seed=4))
    assert np.array_equal(snapshot_rows(labels, n=5_000), np.arange(len(labels)))  # fewer rows: all of them


# ---------------------------------------------------------------- a trained run's snapshots
@pytest.mark.trains
def test_a_run_records_n_snapshots_evenly_over_its_training(snap_run):
    snaps = snap_run.snapshots()
    total = snap_run.metrics["steps"]
    assert total == 8  # 300 images in batches of 64: 4 steps an epoch, 2 epochs
    assert snaps.steps == snapshot_steps(total, 3) == [3, 5, 8]
    assert snaps.stacked().shape == (3, PROBE_SET, snap_run.features().shape[1])
    assert snaps.stacked().dtype == np.float16


@pytest.mark.trains
def test_the_snapshot_rows_are_a_fixed_class_balanced_set_of_the_runs_rows(snap_run):
    rows = snap_run.snapshots().rows
    assert np.bincount(snap_run.labels[rows], minlength=10).tolist() == [PROBE_SET // 10] * 10
    assert np.array_equal(rows, snapshot_rows(snap_run.labels, n=PROBE_SET, seed=snap_run.config.seed))
    assert snap_run.is_test[rows].any() and not snap_run.is_test[rows].all()  # rows of both splits


@pytest.mark.trains
def test_the_last_snapshot_is_the_stored_features_of_its_rows(snap_run):
    snaps = snap_run.snapshots()
    stored = snap_run.features()[snaps.rows]
    last = np.asarray(snaps.features[-1], np.float32)
    np.testing.assert_allclose(last, stored, rtol=2e-3, atol=2e-3)  # float16 keeps ~3 significant digits
    first = np.asarray(snaps.features[0], np.float32)
    assert np.abs(first - stored).max() > 10 * np.abs(last - stored).max()  # training moved the features


@pytest.mark.trains
def test_snapshots_read_back_from_their_documented_files(snap_run, snap_root):
    folder = snap_run.path / "snapshots"
    rows, steps, feats = (np.load(folder / f"{n}.npy") for n in ("rows", "steps", "features"))
    assert (rows.dtype, steps.dtype, feats.dtype) == (np.int64, np.int64, np.float16)
    assert feats.shape == (len(steps), len(rows), snap_run.features().shape[1])
    again = RunStore(snap_root).load(snap_run.id).snapshots()  # a fresh load of the folder
    assert np.array_equal(again.rows, rows) and again.steps == steps.tolist()
    assert np.array_equal(again.stacked(), feats)
    assert {"snapshots/rows.npy", "snapshots/steps.npy", "snapshots/features.npy"} <= set(
        snap_run.manifest["files"]
    )


@pytest.mark.trains
def test_taking_snapshots_does_not_change_the_training(snap_run):
    plain = train(TrainConfig(**{**SNAP_CFG, "snapshots": 0}))
    assert plain.snapshots is None
    np.testing.assert_allclose(plain.losses, snap_run.losses, rtol=1e-5)


def test_a_run_folder_without_snapshots_has_none(tmp_path):
    run = Run(tmp_path, TrainConfig(**TINY), {}, {})
    assert run.snapshots() is None


# ---------------------------------------------------------------- probes of each label set
class FakeRun:
    """What label_probes and subclass_curve read of a run: features on h and z, label sets, the split."""

    def __init__(self, path, h, z, sets, is_test, snaps=None, dataset="fashion-mnist-coarse"):
        self.path, self.id, self._h, self._z = Path(path), "fake-run", h, z
        self._sets, self.is_test, self._snaps = sets, is_test, snaps
        self.config = SimpleNamespace(dataset=dataset)
        self.reads = 0

    def features(self, space="backbone"):
        self.reads += 1
        return self._h if space == "backbone" else self._z

    def label_sets(self):
        return self._sets

    def snapshots(self):
        return self._snaps


def coarse_and_fine(n=2_000, seed=0):
    """fine labels 0..9 and their coarse pair c = fine // 2; h encodes only the coarse label, z the fine."""
    rng = np.random.default_rng(seed)
    fine = rng.integers(0, 10, n)
    coarse = fine // 2
    h = (np.eye(5)[coarse] * 4 + rng.normal(0, 0.3, (n, 5))).astype(np.float32)
    z = (np.eye(10)[fine] * 4 + rng.normal(0, 0.3, (n, 10))).astype(np.float32)
    is_test = np.arange(n) % 4 == 0
    sets = {
        "class": (coarse, tuple(f"c{i}" for i in range(5))),
        "fine": (fine, tuple(f"f{i}" for i in range(10))),
    }
    return h, z, sets, is_test


def test_each_label_set_is_probed_on_what_the_features_encode(tmp_path):
    h, z, sets, is_test = coarse_and_fine()
    pixels = SimpleNamespace(path=tmp_path / "pixels",
                             features=lambda space: np.random.default_rng(1).normal(size=(len(h), 8)))  # fmt: skip
    rows = label_probes(FakeRun(tmp_path / "run", h, z, sets, is_test), pixels)
    assert len(rows) == 6  # {h, z, pixels} x {class, fine}
    for probe in ("linear", "knn"):
        assert probe_value(rows, "class", "backbone", probe) > 0.98  # h holds the coarse class
        assert 0.4 < probe_value(rows, "fine", "backbone", probe) < 0.6  # ... and nothing within a pair
        assert probe_value(rows, "fine", "projector", probe) > 0.98  # z holds the fine class
        assert probe_value(rows, "class", "projector", probe) > 0.98
    noise = [r for r in rows if r["space"] == "pixels"]
    assert {r["labels"] for r in noise} == {"class", "fine"}
    assert all(r["linear"] < 0.3 for r in noise)  # noise features: chance (0.2 and 0.1)
    assert {r["labels"]: r["classes"] for r in rows} == {"class": 5, "fine": 10}
    assert all(r["n_fit"] == int((~is_test).sum()) and r["n_test"] == int(is_test.sum()) for r in rows)


def test_a_second_run_on_the_same_images_reuses_the_pixel_probes(tmp_path):
    h, z, sets, is_test = coarse_and_fine()
    reads = []
    pixels = SimpleNamespace(path=tmp_path / "pixels", features=lambda space: reads.append(space) or h)
    first = label_probes(FakeRun(tmp_path / "a", h, z, sets, is_test), pixels)
    second = label_probes(FakeRun(tmp_path / "b", z[:, :5], z, sets, is_test), pixels)
    assert len(reads) == 1 and len(second) == 6  # the pixels were probed for the first run only
    pixel_rows = [r for r in first if r["space"] == "pixels"]
    assert [r for r in second if r["space"] == "pixels"] == pixel_rows
    assert second[:4] != first[:4]  # the runs' own rows are their own


def test_label_probes_come_back_from_the_cache(tmp_path):
    h, z, sets, is_test = coarse_and_fine()
    first = label_probes(FakeRun(tmp_path, h, z, sets, is_test))
    again = FakeRun(tmp_path, h * 0, z * 0, sets, is_test)  # other features: a recomputation would differ
    assert label_probes(again) == first and again.reads == 0
    assert probe_value(first, "digit") is None  # a label set the run lacks


# ---------------------------------------------------------------- the subclass curve
def collapsing_snapshots(h_late: np.ndarray, z_early: np.ndarray) -> Snapshots:
    """Three snapshots of every row: the first two encode the fine labels, the last only the coarse."""
    rows = np.arange(len(h_late))
    pad = np.zeros((len(rows), 5), np.float32)
    early = np.c_[z_early, pad].astype(np.float16)
    late = np.c_[h_late, np.zeros((len(rows), 10), np.float32)].astype(np.float16)
    return Snapshots(rows, [10, 20, 30], [early, early, late])


def test_the_subclass_curve_shows_a_collapse_built_into_the_snapshots(tmp_path):
    h, z, sets, is_test = coarse_and_fine()
    run = FakeRun(tmp_path, h, z, sets, is_test, snaps=collapsing_snapshots(h, z))
    curve = subclass_curve(run, "fine")
    assert curve["steps"] == [10, 20, 30] and curve["labels"] == "fine"
    assert curve["accuracy"][0] > 0.98 and 0.4 < curve["accuracy"][-1] < 0.6
    assert curve["max"] == max(curve["accuracy"]) and curve["final"] == curve["accuracy"][-1]
    assert (
        curve["collapse_drop"] == pytest.approx(curve["max"] - curve["final"])
        and curve["collapse_drop"] > 0.35
    )
    run._snaps = Snapshots(np.arange(len(h)), [1], [np.zeros((len(h), 15), np.float16)])
    assert subclass_curve(run, "fine") == curve  # cached with the run


def test_a_run_without_snapshots_has_no_curve(tmp_path):
    h, z, sets, is_test = coarse_and_fine()
    assert subclass_curve(FakeRun(tmp_path, h, z, sets, is_test), "fine") is None


@pytest.mark.trains
def test_a_subclass_curve_on_digits_names_the_missing_labels(snap_run):
    with pytest.raises(ValueError) as err:
        subclass_curve(snap_run, "fine")
    message = str(err.value)
    assert "digits" in message and "no 'fine' labels" in message and "fashion-mnist-coarse" in message
