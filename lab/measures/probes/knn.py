"""The kNN probe: a weighted cosine vote of the k nearest training points (lab.measures.neighbours).

Standard kNN monitor [L, standard]; docs/science.md, "Probes".
"""

from __future__ import annotations

import numpy as np

from lab.measures.neighbours import knn_search
from lab.measures.probes.common import ProbeResult, accuracy, check_split

KNN_K = 20  # neighbours that vote, in every kNN accuracy the lab shows [L, standard]
KNN_T = 0.07  # vote weight exp(sim / KNN_T)


def knn_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray | None,
    k: int = KNN_K,
    t: float = KNN_T,
) -> ProbeResult:
    """Weighted cosine kNN classifier: the k nearest train points vote with weight exp(sim / t).

    Standard kNN monitor [L, standard] (Wu et al. 2018 style), used beside Zhang, Lu & Xuan 2023's
    probes. Neighbours by lab.measures.neighbours.knn_search (exact). x: [N, d]; y: [N].
    """
    train_x, test_x = check_split(train_x, train_y, test_x, test_y)
    classes, y_idx = np.unique(train_y, return_inverse=True)
    sims, idx = knn_search(train_x, k, queries=test_x)
    votes = np.zeros((len(test_x), len(classes)))
    np.add.at(votes, (np.repeat(np.arange(len(test_x)), k), y_idx[idx].ravel()), np.exp(sims.ravel() / t))
    pred = classes[votes.argmax(1)]
    return ProbeResult("knn", accuracy(pred, test_y), pred, {"k": k})
