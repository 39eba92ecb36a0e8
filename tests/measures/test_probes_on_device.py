"""The torch scoring path a CUDA run uses (lab.measures.probes.on_device), checked on the CPU against
the faiss and scikit-learn path every other run uses; the CPU keeps that path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lab.measures.probes import scores
from lab.measures.probes.on_device import knn_accuracy_on, linear_accuracy_on, use_device


@pytest.fixture(scope="module")
def blobs():
    """Five overlapping Gaussian classes in 32 dims: accuracies well away from 0 and 1."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 32))
    y = rng.integers(0, 5, 3000)
    x = (centres[y] + rng.normal(scale=1.6, size=(3000, 32))).astype(np.float32)
    return x[:2000], y[:2000], x[2000:], y[2000:]


def test_knn_by_blocked_matmul_equals_faiss(blobs, monkeypatch):
    monkeypatch.setattr(
        "lab.measures.neighbours.TORCH_BLOCK_ENTRIES", 97 * 2000
    )  # 97-row blocks, a ragged last one
    faiss_acc = scores.knn_accuracy(*blobs)
    assert 0.4 < faiss_acc < 0.95
    assert knn_accuracy_on(*blobs, "cpu") == faiss_acc


def test_knn_with_fewer_training_points_than_k(blobs):
    x, y, tx, ty = blobs
    assert knn_accuracy_on(x[:7], y[:7], tx, ty, "cpu") == scores.knn_accuracy(x[:7], y[:7], tx, ty)


def test_linear_probe_in_torch_agrees_with_scikit_learn(blobs):
    sk = scores.linear_accuracy(*blobs)
    assert 0.4 < sk < 0.95
    assert abs(linear_accuracy_on(*blobs, "cpu") - sk) <= 0.01


def test_a_constant_feature_does_not_break_the_standardisation(blobs):
    x, y, tx, ty = (a.copy() for a in blobs)
    x[:, 0] = tx[:, 0] = 1.0
    assert abs(linear_accuracy_on(x, y, tx, ty, "cpu") - scores.linear_accuracy(x, y, tx, ty)) <= 0.01


def test_only_cuda_scores_on_the_device_and_the_cpu_keeps_faiss_and_sklearn(blobs, monkeypatch):
    assert use_device("cuda") and use_device(torch.device("cuda", 0))
    assert not use_device("cpu") and not use_device(None) and not use_device("mps")
    called = []
    monkeypatch.setattr(scores, "knn_accuracy", lambda *a: called.append("faiss") or 0.5)
    monkeypatch.setattr(scores, "linear_accuracy", lambda *a: called.append("sklearn") or 0.5)
    x, y, tx, ty = blobs
    h = np.r_[x, tx]
    is_test = np.r_[np.zeros(len(x), bool), np.ones(len(tx), bool)]
    scores.score(h, h, np.r_[y, ty], is_test, torch.device("cpu"))
    assert called == ["faiss", "faiss", "sklearn"]
