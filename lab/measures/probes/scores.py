"""The scores stored with every run: kNN accuracy on h and z and a linear probe on h.

kNN [L, standard]: `knn_probe` (k = 20 cosine neighbours by faiss, votes exp(sim / 0.07)).
Linear [P]: multinomial logistic regression (scikit-learn, L-BFGS) on L2-normalised, standardised
features with a fixed, mild regularisation, so scoring a run takes seconds. The Probes page
(`linear_probe`) selects C on held-out training labels instead. docs/science.md, "Probes".
"""

from __future__ import annotations

import numpy as np

from lab.measures.probes.knn import KNN_K, KNN_T, knn_probe
from lab.measures.probes.linear import linear_model

DEFERRED_SCORES = ("knn_acc_projector", "linear_acc")  # what `score_rest` adds


def knn_accuracy(train_x, train_y, test_x, test_y, k: int = KNN_K, t: float = KNN_T) -> float:
    return float(knn_probe(train_x, train_y, test_x, test_y, k=min(k, len(train_x)), t=t).accuracy)


def linear_accuracy(train_x, train_y, test_x, test_y, c: float = 1.0, max_iter: int = 200) -> float:
    clf = linear_model(c, max_iter)
    clf.fit(np.asarray(train_x), train_y)
    return float(clf.score(np.asarray(test_x), test_y))


def _probes(device) -> tuple:
    """(kNN, linear) accuracy functions: on CUDA their torch versions, else faiss and scikit-learn."""
    from lab.measures.probes import on_device

    if not on_device.use_device(device):
        return knn_accuracy, linear_accuracy
    return (
        lambda *a: on_device.knn_accuracy_on(*a, device),
        lambda *a: on_device.linear_accuracy_on(*a, device),
    )


def score(h: np.ndarray, z: np.ndarray, labels: np.ndarray, is_test: np.ndarray, device=None) -> dict:
    """kNN (k=20, cosine) on h and z, and a linear probe on h: train rows fit, test rows score.
    device: the training device; CUDA scores there (lab.measures.probes.on_device)."""
    return {**score_first(h, labels, is_test, device), **score_rest(h, z, labels, is_test, device)}


def score_first(h: np.ndarray, labels: np.ndarray, is_test: np.ndarray, device=None) -> dict:
    """The run's headline score, kNN accuracy on h (about 1.7 s on the default run), and its split sizes."""
    tr, te = ~is_test, is_test
    knn, _ = _probes(device)
    return {
        "knn_acc": knn(h[tr], labels[tr], h[te], labels[te]),
        "n_train": int(tr.sum()),
        "n_test": int(te.sum()),
    }


def score_rest(h: np.ndarray, z: np.ndarray, labels: np.ndarray, is_test: np.ndarray, device=None) -> dict:
    """kNN accuracy on z and the linear probe on h (about 9 s on the default run)."""
    tr, te = ~is_test, is_test
    knn, linear = _probes(device)
    return {
        "knn_acc_projector": knn(z[tr], labels[tr], z[te], labels[te]),
        "linear_acc": linear(h[tr], labels[tr], h[te], labels[te]),
    }
