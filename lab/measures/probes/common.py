"""What every probe shares: its result type, the train/test split checks, label budgets, held-out
slices and bootstrap intervals. Test labels are read only to score, after every choice is made.

Definitions in docs/science.md, "Probes". Features are float [N, d] numpy arrays, labels int [N].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lab.measures.features import check_features


@dataclass(frozen=True)
class ProbeResult:
    """One probe's test score and the choices made without test labels."""

    probe: str  # "linear", "knn", "gcn-labels", "gcn-features"
    accuracy: float | None  # None when no test labels were given
    predictions: np.ndarray  # [N_test] predicted class ids
    chosen: dict = field(default_factory=dict)  # e.g. {"C": 1.0} or {"step": 40, "val_accuracy": 0.91}


def accuracy(pred: np.ndarray, y: np.ndarray | None) -> float | None:
    return None if y is None else float((pred == np.asarray(y)).mean())


def check_split(train_x, train_y, test_x, test_y) -> tuple[np.ndarray, np.ndarray]:
    train_x = check_features(train_x, train_y, name="train_x")
    test_x = check_features(test_x, name="test_x")
    if test_x.shape[1] != train_x.shape[1]:
        raise ValueError(
            f"train_x has {train_x.shape[1]} dims but test_x {test_x.shape[1]}; use one encoder."
        )
    if test_y is not None and np.asarray(test_y).shape != (len(test_x),):
        raise ValueError(f"test_y must have one label per test row ({len(test_x)}); got {np.shape(test_y)}.")
    return train_x, test_x


def holdout_split(y: np.ndarray, frac: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class-stratified (fit_rows, val_rows) of y with about frac of each class held out (>= 1 if it has 2+)."""
    rng = np.random.default_rng(seed)
    fit, val = [], []
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        n_val = min(len(rows) - 1, max(1, round(frac * len(rows))))
        val.append(rows[:n_val])
        fit.append(rows[n_val:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(val))


def label_budget(y: np.ndarray, budget: float, seed: int = 0) -> np.ndarray:
    """Sorted rows whose labels are known: a seeded class-balanced round(budget * N) (all if budget = 1).

    Label budget of the lab's probe table [L]; each class gets an equal share (capped at its size).
    """
    y = np.asarray(y)
    if not 0 < budget <= 1:
        raise ValueError(f"budget is the fraction of train labels known, in (0, 1]; got {budget}.")
    classes = np.unique(y)
    n = round(budget * len(y))
    if n >= len(y):
        return np.arange(len(y))
    if n < 2 * len(classes):
        raise ValueError(
            f"budget {budget} gives {n} labels for {len(classes)} classes; need at least 2 per class. "
            "Raise the budget."
        )
    rng = np.random.default_rng(seed)
    share = np.full(len(classes), n // len(classes))
    share[rng.permutation(len(classes))[: n % len(classes)]] += 1
    rows = [
        rng.choice(np.flatnonzero(y == c), min(s, (y == c).sum()), replace=False)
        for c, s in zip(classes, share, strict=True)
    ]
    return np.sort(np.concatenate(rows))


def bootstrap_interval(correct: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of test accuracy from per-test-point correctness [N_test] bool.

    Resampling test points with replacement makes the resampled accuracy Binomial(n, acc)/n,
    so it is drawn directly [L, exact equivalent of the resampling loop].
    """
    correct = np.asarray(correct, dtype=bool)
    draws = np.random.default_rng(seed).binomial(len(correct), correct.mean(), n_boot) / len(correct)
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))
