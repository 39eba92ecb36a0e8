"""The run store: runs are stored atomically, reused, scored later on request, and a damaged, older
or unwritable folder is said, never crashed on."""

import json

import numpy as np
import pytest
from tiny import TINY

import lab.store.runs
from lab.core.config import TrainConfig
from lab.store.runs import RunStore, RunStoreError


def test_deferred_scores_arrive_later_with_the_same_values(tmp_path, tiny_run, monkeypatch):
    """The app stores a run before its linear probe; completing it gives what scoring at once gives."""
    deferred = RunStore(tmp_path)
    run, _ = deferred.get_or_train(TrainConfig(**TINY), defer_scores=True)
    assert run.pending == ["knn_acc", "knn_acc_projector", "linear_acc"]
    assert not {"knn_acc", "knn_acc_projector", "linear_acc"} & set(run.metrics)
    assert (
        run.metrics["n_test"] == tiny_run.metrics["n_test"]
        and run.features().shape == tiny_run.features().shape
    )
    done = deferred.complete_scores(run.id)
    assert done.pending == [] and "pending_scores" not in json.loads((done.path / "metrics.json").read_text())
    for key in ("knn_acc", "knn_acc_projector", "linear_acc"):
        assert done.metrics[key] == pytest.approx(tiny_run.metrics[key], abs=1e-9), key
    assert not list(done.path.glob(".metrics*")), "no temporary file left behind"

    # a pending run asked for without defer_scores (the CLI, the reproduction) is completed first
    again, _ = deferred.get_or_train(TrainConfig(**TINY), defer_scores=True)
    metrics = dict(again.metrics, pending_scores=["linear_acc"])
    metrics.pop("linear_acc")
    (again.path / "metrics.json").write_text(json.dumps(metrics))
    monkeypatch.setattr(lab.store.runs, "train", lambda *a, **k: pytest.fail("trained again"))
    completed, stored = deferred.get_or_train(TrainConfig(**TINY))
    assert (
        stored and completed.pending == [] and completed.metrics["linear_acc"] == done.metrics["linear_acc"]
    )


def test_second_call_is_served_from_the_store_without_training(store, tiny_run, monkeypatch):
    def no_training(*a, **k):
        raise AssertionError("trained again")

    monkeypatch.setattr(lab.store.runs, "train", no_training)
    run, stored = store.get_or_train(TrainConfig(**TINY))
    assert stored and run.id == tiny_run.id and run.metrics == tiny_run.metrics


def test_an_interrupted_write_leaves_nothing_complete(store, monkeypatch):
    cfg = TrainConfig(**{**TINY, "epochs": 1, "seed": 11})
    real_save = np.save
    calls = {"n": 0}

    def dying_save(path, arr, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if Ctrl-C arrived mid-write
        return real_save(path, arr, **kw)

    monkeypatch.setattr(lab.store.runs.np, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        store.get_or_train(cfg)
    assert not store.path(cfg).exists()
    assert store.find(cfg) is None
    assert not list(store.root.glob(".tmp-*"))


def test_a_corrupt_run_folder_is_reported_and_trained_again(store, tiny_run):
    cfg = TrainConfig(**{**TINY, "epochs": 1, "seed": 12})
    first, _ = store.get_or_train(cfg)
    (first.path / "metrics.json").write_text("{ not json")
    messages = []
    again, stored = store.get_or_train(cfg, status=messages.append)
    assert not stored and json.loads((again.path / "metrics.json").read_text())["knn_acc"] > 0
    assert any("corrupt" in m for m in messages)
    assert list(store.root.glob(f"{first.id}.corrupt-*"))
    assert first.id in {r.id for r in store.list()}


def test_a_run_stored_by_an_older_store_version_is_skipped_not_shown(tiny_run, tmp_path):
    """Changing what a stored run means (STORE_VERSION) re-hashes every config: an old folder is
    left alone on disk, left out of the list, and loading it says why."""
    import shutil

    old = tmp_path / "runs" / "0123456789ab"
    shutil.copytree(tiny_run.path, old)
    meta = json.loads((old / "config.json").read_text())
    meta["run_id"] = "0123456789ab"  # what an older STORE_VERSION hashed the same config to
    (old / "config.json").write_text(json.dumps(meta))
    store = RunStore(tmp_path / "runs")
    assert store.list() == []
    with pytest.raises(ValueError, match="another version of the lab"):
        store.load("0123456789ab")
    assert old.is_dir()


def test_an_unwritable_runs_folder_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(RunStoreError, match="Set LAB_RUNS_DIR"):
        RunStore(blocker / "runs").get_or_train(TrainConfig(**{**TINY, "epochs": 1}))
