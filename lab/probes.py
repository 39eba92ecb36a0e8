"""Probes on frozen features: linear and kNN here, the paper's GCN in lab.gcn; shared splits, label
budgets and the probe table.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229),
spec/ALGORITHMS.md Sec. 3 "Probes". Features are float [N, d] numpy arrays, labels int [N].
Test labels are read only to score, after every choice (C, step) has been made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lab.geometry import check_features, knn_search


@dataclass(frozen=True)
class ProbeResult:
    """One probe's test score and the choices made without test labels."""

    probe: str  # "linear", "knn", "gcn-labels", "gcn-features"
    accuracy: float | None  # None when no test labels were given
    predictions: np.ndarray  # [N_test] predicted class ids
    chosen: dict = field(default_factory=dict)  # e.g. {"C": 1.0} or {"step": 40, "val_accuracy": 0.91}


def _accuracy(pred: np.ndarray, y: np.ndarray | None) -> float | None:
    return None if y is None else float((pred == np.asarray(y)).mean())


def _check_split(train_x, train_y, test_x, test_y) -> tuple[np.ndarray, np.ndarray]:
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


# ---------------------------------------------------------------- linear and kNN
def linear_model(c: float = 1.0, max_iter: int = 200):
    """The lab's linear probe: L2-normalise, standardise, multinomial logistic regression (L-BFGS)."""
    from sklearn.linear_model import LogisticRegression  # late: keeps `import lab` light for the app
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, StandardScaler

    return make_pipeline(Normalizer(), StandardScaler(), LogisticRegression(C=c, max_iter=max_iter, tol=1e-3))


def linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray | None,
    cs: tuple[float, ...] = (0.1, 1.0, 10.0),
    max_iter: int = 200,
    seed: int = 0,
) -> ProbeResult:
    """Logistic regression (L-BFGS) on L2-normalised, standardised frozen features; C picked on
    train labels.

    Zhang, Lu & Xuan 2023 linear probe [P] with sklearn. C is chosen by accuracy on a stratified
    10 % slice of the train labels, then the probe is refit on all of them. x: [N, d]; y: [N].
    Standardising after normalising matters: without it L-BFGS had not converged after 200
    iterations on 60k Fashion-MNIST features (285 s, and a worse score with more labels).
    Returns ProbeResult(accuracy, predictions, chosen={"C": ...}).
    """
    train_x, test_x = _check_split(train_x, train_y, test_x, test_y)
    train_y = np.asarray(train_y)
    fit, val = holdout_split(train_y, 0.1, seed)

    def model(c: float):
        return linear_model(c, max_iter)

    scores = [model(c).fit(train_x[fit], train_y[fit]).score(train_x[val], train_y[val]) for c in cs]
    best = cs[int(np.argmax(scores))]
    pred = model(best).fit(train_x, train_y).predict(test_x)
    return ProbeResult(
        "linear", _accuracy(pred, test_y), pred, {"C": best, "val_accuracy": float(max(scores))}
    )


def knn_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray | None,
    k: int = 20,
    t: float = 0.07,
) -> ProbeResult:
    """Weighted cosine kNN classifier: the k nearest train points vote with weight exp(sim / t).

    Standard kNN monitor [L, standard] (Wu et al. 2018 style), used beside Zhang, Lu & Xuan 2023's
    probes. Neighbours by faiss (lab.geometry.knn_search). x: [N, d]; y: [N].
    """
    train_x, test_x = _check_split(train_x, train_y, test_x, test_y)
    classes, y_idx = np.unique(train_y, return_inverse=True)
    sims, idx = knn_search(train_x, k, queries=test_x)
    votes = np.zeros((len(test_x), len(classes)))
    np.add.at(votes, (np.repeat(np.arange(len(test_x)), k), y_idx[idx].ravel()), np.exp(sims.ravel() / t))
    pred = classes[votes.argmax(1)]
    return ProbeResult("knn", _accuracy(pred, test_y), pred, {"k": k})


def probe_table(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    budgets: tuple[float, ...] = (0.01, 0.1, 1.0),
    probes: tuple[str, ...] = ("linear", "knn", "gcn-labels"),
    tau: float = 0.2,
    seed: int = 0,
    steps: int = 60,
    name: str = "features",
) -> list[dict]:
    """Linear / kNN / GCN probes for each label budget on the same splits, with 95 % bootstrap CIs.

    Zhang, Lu & Xuan 2023 probes [P]; table layout, budgets and intervals [L]. The RLD graph is built
    once; at each budget every probe sees the same known train labels. Returns one dict per
    (budget, probe): features, probe, budget, n_labels, accuracy, ci_low, ci_high and the choices.
    """
    train_x, test_x = _check_split(train_x, train_y, test_x, test_y)
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    unknown = [p for p in probes if p not in ("linear", "knn", "gcn-labels", "gcn-features")]
    if unknown:
        raise ValueError(f"Unknown probe {unknown[0]!r}. Choose from: linear, knn, gcn-labels, gcn-features.")
    from lab.gcn import gcn_probe, rld_graph  # lab.gcn builds on this module

    graph = (
        rld_graph(np.concatenate([train_x, test_x]), tau, seed=seed)
        if any(p.startswith("gcn") for p in probes)
        else None
    )
    rows = []
    for budget in budgets:
        known = label_budget(train_y, budget, seed)
        for p in probes:
            if p == "linear":
                r = linear_probe(train_x[known], train_y[known], test_x, test_y, seed=seed)
            elif p == "knn":
                r = knn_probe(train_x[known], train_y[known], test_x, test_y, k=min(20, len(known)))
            else:
                r = gcn_probe(train_x, train_y, test_x, test_y, p[4:], tau, budget, seed, steps, graph=graph)
            lo, hi = bootstrap_interval(r.predictions == test_y, seed=seed)
            rows.append(
                {
                    "features": name,
                    "probe": p,
                    "budget": budget,
                    "n_labels": len(known),
                    "accuracy": r.accuracy,
                    "ci_low": lo,
                    "ci_high": hi,
                    **r.chosen,
                }
            )
    return rows
