"""The two scores stored with every run: kNN and linear-probe accuracy of frozen features.

kNN [L, standard]: k=20 cosine neighbours (faiss), votes weighted exp(sim / 0.07).
Linear [P]: multinomial logistic regression (scikit-learn, L-BFGS) on L2-normalised, standardised
features; a fixed, mild regularisation so that scoring a run stays a few seconds. The Probes page
(lab.probes) selects C on held-out training labels instead.
"""

from __future__ import annotations

import numpy as np

from lab.geometry import knn_search


def knn_predict(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, k: int = 20, t: float = 0.07
) -> np.ndarray:
    """Predicted labels of test_x by weighted cosine kNN over train_x. Returns [M] int."""
    k = min(k, len(train_x))
    sims, idx = knn_search(train_x, k, queries=test_x)
    n_classes = int(train_y.max()) + 1
    votes = np.zeros((len(test_x), n_classes), dtype=np.float64)
    np.add.at(votes, (np.arange(len(test_x))[:, None], train_y[idx]), np.exp((sims - 1.0) / t))
    return votes.argmax(1)


def knn_accuracy(train_x, train_y, test_x, test_y, k: int = 20, t: float = 0.07) -> float:
    return float((knn_predict(train_x, train_y, test_x, k, t) == test_y).mean())


def linear_accuracy(train_x, train_y, test_x, test_y, c: float = 1.0, max_iter: int = 200) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, StandardScaler

    clf = make_pipeline(Normalizer(), StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    clf.fit(train_x, train_y)
    return float(clf.score(test_x, test_y))
