"""The trainer end to end on digits: a tiny run beats chance, reloads to the same features, stops
cleanly on cancel and on a NaN loss, reports progress, and every method trains a step."""

import numpy as np
import pytest
import torch
from tiny import TINY

from lab.core.config import TrainConfig
from lab.core.device import loss_read_every, pick_device
from lab.core.train import TrainingCancelled, TrainingDiverged, train


def test_tiny_simclr_run_beats_chance_by_a_wide_margin(tiny_run):
    m = tiny_run.metrics
    assert m["knn_acc"] > 0.6 and m["linear_acc"] > 0.6  # chance is 0.10
    assert m["pixels"]["knn_acc"] > 0.9  # the baseline is computed in the same store
    assert m["n_test"] == len(tiny_run.labels[tiny_run.is_test])
    assert tiny_run.features().shape == (1797, 8 * tiny_run.config.width)  # the backbone's width * 8
    assert tiny_run.features("projector").shape == (1797, 128)
    assert np.isfinite(tiny_run.losses).all() and len(tiny_run.losses) == m["steps"]


def test_stored_weights_reload_to_the_same_features(tiny_run):
    model = tiny_run.load_model()
    x = tiny_run.images()[:32].float() / 255
    with torch.no_grad():
        h, _ = model(x)
    assert np.allclose(h.numpy(), tiny_run.features()[:32], atol=1e-4)


def test_cancelling_between_steps_stores_nothing(store):
    cfg = TrainConfig(**{**TINY, "seed": 13})
    with pytest.raises(TrainingCancelled):
        store.get_or_train(cfg, should_stop=lambda: True)
    assert not store.path(cfg).exists()


def test_a_nan_loss_stops_with_a_clear_error():
    cfg = TrainConfig(**{**TINY, "epochs": 1, "lr": 1e30})
    with pytest.raises(TrainingDiverged, match="Lower the learning rate"):
        train(cfg)


@pytest.mark.trains
def test_progress_reports_each_loss_read_with_an_eta():
    seen = []
    cfg = TrainConfig(**{**TINY, "epochs": 3, "method": "supervised"})
    train(cfg, progress=seen.append)
    every, total = loss_read_every(pick_device(cfg.device)), seen[-1].total_steps
    assert total > 10  # more steps than an accelerator's read interval
    assert [p.step for p in seen] == sorted(set(range(every, total + 1, every)) | {total})
    assert loss_read_every(torch.device("cpu")) == 1 and loss_read_every(torch.device("cuda")) == 10
    assert seen[-1].eta_s == 0 and all(p.images_per_s > 0 for p in seen)


@pytest.mark.trains
@pytest.mark.parametrize("method", ["supervised", "supcon", "joint"])
def test_every_method_trains_a_step(method):
    r = train(TrainConfig(**{**TINY, "epochs": 1, "method": method, "subset": 300}))
    assert np.isfinite(r.losses).all()


def test_each_snapshot_reaches_the_callback_as_it_is_taken_before_the_end_of_training():
    """The live frames' source: on_snapshot gets every snapshot but the last (the store completes that
    one from the finished run), with the probe set's features and classes, at the steps recorded."""
    seen = []
    cfg = TrainConfig(**{**TINY, "epochs": 2, "method": "supervised", "snapshots": 4})
    result = train(cfg, on_snapshot=lambda step, h, labels: seen.append((step, h.shape, labels.copy())))
    snaps = result.snapshots
    assert [s for s, _, _ in seen] == snaps.steps and len(seen) == 3 and snaps.final_step == result.steps
    rows = len(snaps.rows)
    assert all(shape == (rows, snaps.features[0].shape[1]) for _, shape, _ in seen)
    all_labels = np.concatenate([result.dataset.train_labels.numpy(), result.dataset.test_labels.numpy()])
    assert np.array_equal(seen[0][2], all_labels[snaps.rows])
