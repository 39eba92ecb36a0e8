"""Trainer and run store: a tiny digits run beats chance, is stored atomically and reused."""

import json

import numpy as np
import pytest
import torch

import lab.store.runs
from lab.core.config import TrainConfig
from lab.core.device import loss_read_every, pick_device
from lab.core.train import TrainingCancelled, TrainingDiverged, train
from lab.store.runs import RunStore, RunStoreError, run_id

TINY = dict(dataset="digits", epochs=6, batch_size=256, seed=0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return RunStore(tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def tiny_run(store):
    run, stored = store.get_or_train(TrainConfig(**TINY))
    assert not stored
    return run


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(dataset="digitz"), "Unknown dataset 'digitz'. Choose one of"),
        (
            dict(method="simclrr"),
            "Unknown method 'simclrr'. Choose one of: supervised, simclr, supcon, joint",
        ),
        (dict(encoder="vit"), "Unknown encoder 'vit'. Choose one of: cnn, resnet18"),
        (dict(aug_strength=1.2), r"aug_strength must be in \[0, 1\]"),
        (dict(embedding_size=1), "embedding_size must be 2 to 2048"),
        (dict(batch_size=1), "batch_size must be at least 2"),
        (dict(temperature=0.0), "temperature must be above 0"),
        (dict(alpha=-0.1), r"alpha must be in \[0, 1\]"),
    ],
)
def test_bad_config_values_are_refused_before_training(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**bad)


def test_run_id_ignores_settings_the_method_does_not_use():
    a = TrainConfig(method="simclr", alpha=0.1)
    b = TrainConfig(method="simclr", alpha=0.9, device="cpu")
    assert run_id(a) == run_id(b)
    assert run_id(TrainConfig(method="joint", alpha=0.1)) != run_id(TrainConfig(method="joint", alpha=0.9))
    assert run_id(a) != run_id(TrainConfig(method="simclr", embedding_size=64))


def test_tiny_simclr_run_beats_chance_by_a_wide_margin(tiny_run):
    m = tiny_run.metrics
    assert m["knn_acc"] > 0.6 and m["linear_acc"] > 0.6  # chance is 0.10
    assert m["pixels"]["knn_acc"] > 0.9  # the baseline is computed in the same store
    assert m["n_test"] == len(tiny_run.labels[tiny_run.is_test])
    assert tiny_run.features().shape == (1797, 128) and tiny_run.features("projector").shape == (1797, 128)
    assert np.isfinite(tiny_run.losses).all() and len(tiny_run.losses) == m["steps"]


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


def test_stored_weights_reload_to_the_same_features(tiny_run):
    model = tiny_run.load_model()
    x = tiny_run.images()[:32].float() / 255
    with torch.no_grad():
        h, _ = model(x)
    assert np.allclose(h.numpy(), tiny_run.features()[:32], atol=1e-4)


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


def test_cancelling_between_steps_stores_nothing(store):
    cfg = TrainConfig(**{**TINY, "seed": 13})
    with pytest.raises(TrainingCancelled):
        store.get_or_train(cfg, should_stop=lambda: True)
    assert not store.path(cfg).exists()


def test_a_nan_loss_stops_with_a_clear_error():
    cfg = TrainConfig(**{**TINY, "epochs": 1, "lr": 1e30})
    with pytest.raises(TrainingDiverged, match="Lower the learning rate"):
        train(cfg)


def test_an_unwritable_runs_folder_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(RunStoreError, match="Set LAB_RUNS_DIR"):
        RunStore(blocker / "runs").get_or_train(TrainConfig(**{**TINY, "epochs": 1}))


def test_progress_reports_each_loss_read_with_an_eta():
    seen = []
    cfg = TrainConfig(**{**TINY, "epochs": 3, "method": "supervised"})
    train(cfg, progress=seen.append)
    every, total = loss_read_every(pick_device(cfg.device)), seen[-1].total_steps
    assert total > 10  # more steps than an accelerator's read interval
    assert [p.step for p in seen] == sorted(set(range(every, total + 1, every)) | {total})
    assert loss_read_every(torch.device("cpu")) == 1 and loss_read_every(torch.device("cuda")) == 10
    assert seen[-1].eta_s == 0 and all(p.images_per_s > 0 for p in seen)


@pytest.mark.parametrize("method", ["supervised", "supcon", "joint"])
def test_every_method_trains_a_step(method):
    r = train(TrainConfig(**{**TINY, "epochs": 1, "method": method, "subset": 300}))
    assert np.isfinite(r.losses).all()
