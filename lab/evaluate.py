"""The two scores stored with every run: kNN and linear-probe accuracy of frozen features.

kNN [L, standard]: lab.probes.knn_probe (k=20 cosine neighbours by faiss, votes exp(sim / 0.07)).
Linear [P]: multinomial logistic regression (scikit-learn, L-BFGS) on L2-normalised, standardised
features with a fixed, mild regularisation, so scoring a run takes seconds. The Probes page
(lab.probes.linear_probe) selects C on held-out training labels instead.
"""

from __future__ import annotations

import numpy as np

from lab.probes import knn_probe, linear_model


def knn_accuracy(train_x, train_y, test_x, test_y, k: int = 20, t: float = 0.07) -> float:
    return float(knn_probe(train_x, train_y, test_x, test_y, k=min(k, len(train_x)), t=t).accuracy)


def linear_accuracy(train_x, train_y, test_x, test_y, c: float = 1.0, max_iter: int = 200) -> float:
    clf = linear_model(c, max_iter)
    clf.fit(np.asarray(train_x), train_y)
    return float(clf.score(np.asarray(test_x), test_y))
