"""The training timeline (lab.store.timeline) of a constructed run: frames initialised from the
previous frame stay aligned (points move far less than between independent layouts), the measures rise
as the classes form, the pixel reference is flat, the cache is keyed and whole, and an interrupted
timeline resumes from its stored frames."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from constructed import clustered

from lab.core.snapshots import Snapshots
from lab.measures.maps import umap_2d
from lab.measures.over_training import mean_displacement
from lab.store import timeline as timeline_module
from lab.store.timeline import stored_timeline, timeline, timeline_csv

N, CLASSES, STEPS = 400, 4, [10, 20, 30, 40]


class FakeRun:
    """What the timeline reads of a run: its id, folder, labels, split, label sets and snapshots."""

    def __init__(self, path: Path, snapshots: bool = True):
        x, self.labels = clustered(n=N, d=16, classes=CLASSES, spread=0.3, seed=0)
        noise = np.random.default_rng(1).normal(size=x.shape).astype(np.float32) * 3
        # classes form out of noise over training, slowly enough that consecutive frames look alike
        self._feats = [(s * x + (1 - s) * noise).astype(np.float16) for s in (0.55, 0.7, 0.85, 1.0)]
        self.path, self.id, self._snaps = path, path.name, snapshots
        self.is_test = np.arange(N) % 5 == 0
        self.fine = np.arange(N) % (2 * CLASSES)  # two subclasses in each class

    def label_sets(self):
        return {"class": (self.labels, ()), "fine": (self.fine, ())}

    def snapshots(self):
        return Snapshots(np.arange(N), list(STEPS), list(self._feats)) if self._snaps else None


def _pixels(run):
    return SimpleNamespace(features=lambda space="backbone": np.asarray(run._feats[0], np.float32))


@pytest.mark.slow  # about 8 s: eight UMAP fits
def test_frames_started_from_the_previous_frame_move_far_less_than_independent_layouts(tmp_path):
    run = FakeRun(tmp_path / "run")
    tl = timeline(run, seed=0)
    assert tl.frames.shape == (len(STEPS), N, 2) and tl.steps == STEPS
    aligned = [mean_displacement(a, b) for a, b in zip(tl.frames[:-1], tl.frames[1:], strict=True)]
    free = [umap_2d(np.asarray(f, np.float32), seed=i + 1) for i, f in enumerate(run._feats)]
    independent = [mean_displacement(a, b) for a, b in zip(free[:-1], free[1:], strict=True)]
    # measured: 0.28 against 0.92 (seeded); independent layouts of four clusters agree only by chance
    assert np.mean(aligned) < 0.5 * np.mean(independent), (aligned, independent)


def test_the_measures_rise_as_the_classes_form_and_the_pixels_are_one_flat_reference(tmp_path):
    run = FakeRun(tmp_path / "run")
    tl = timeline(run, _pixels(run), seed=0)
    for key in ("rld", "chs", "purity@10", "knn_acc"):
        values = [m[key] for m in tl.measures]
        assert values[0] < values[-1], (key, values)
    assert "subclass" in tl.measures[0]  # the run has fine labels
    assert tl.pixels == pytest.approx(tl.measures[0])  # the constructed "pixels" are the first frame
    csv = timeline_csv(tl).decode().splitlines()
    assert (
        csv[0].startswith("step,rld,chs") and len(csv) == 1 + len(STEPS) + 1 and csv[-1].startswith("pixels,")
    )


def test_a_stored_timeline_loads_and_other_parameters_are_another_cache(tmp_path):
    run = FakeRun(tmp_path / "run")
    assert stored_timeline(run) is None
    tl = timeline(run, seed=0)
    again = stored_timeline(run)
    assert again is not None and np.array_equal(again.frames, tl.frames) and again.measures == tl.measures
    assert stored_timeline(run, tau=0.5) is None


def test_an_interrupted_timeline_resumes_after_its_stored_frames(tmp_path, monkeypatch):
    run = FakeRun(tmp_path / "run")
    real, laid_out = timeline_module._layout, []

    def layout_then_stop(x, *args):
        if len(laid_out) == 2:
            raise KeyboardInterrupt  # the worker stopped during the third frame
        laid_out.append(1)
        return real(x, *args)

    monkeypatch.setattr(timeline_module, "_layout", layout_then_stop)
    with pytest.raises(KeyboardInterrupt):
        timeline(run, seed=0)
    assert stored_timeline(run) is None  # not whole, so not shown
    texts = []
    monkeypatch.setattr(timeline_module, "_layout", real)
    timeline(run, seed=0, progress=lambda f, text: texts.append(text))
    layouts = [t for t in texts if t.startswith("Laying out")]
    assert len(layouts) == 2 and "resuming after 2 stored frames" in layouts[0]
    assert stored_timeline(run) is not None


def test_a_run_without_snapshots_has_no_timeline(tmp_path):
    assert timeline(FakeRun(tmp_path / "run", snapshots=False)) is None


def test_two_runs_of_different_lengths_meet_at_the_same_share_of_training():
    """SupCon over 5 steps against joint over 10 (the Compare page): the slider's points are the union of
    their shares, and each run shows its last snapshot at or before the share asked for."""
    from lab.store.timeline import Timeline, progress_points

    def tl(steps):
        return Timeline(
            steps, np.arange(3), np.zeros((len(steps), 3, 2), np.float32), [{}] * len(steps), None
        )

    short, long = tl([1, 2, 4, 5]), tl([2, 5, 8, 10])
    assert progress_points(short, long) == [0.2, 0.4, 0.5, 0.8, 1.0]
    assert [short.frame_at(f) for f in (0.2, 0.4, 0.5, 0.8, 1.0)] == [0, 1, 1, 2, 3]
    assert [long.frame_at(f) for f in (0.2, 0.4, 0.5, 0.8, 1.0)] == [0, 0, 1, 2, 3]
    thirds, sixths = tl([1, 2, 3]), tl([2, 4, 6])
    assert progress_points(thirds, sixths) == [0.333, 0.667, 1.0]  # 1/3 meets 2/6
    assert thirds.frame_at(0.333) == sixths.frame_at(0.333) == 0 and long.frame_at(0.05) == 0
