"""The paper's GCN probe on the similarity graph: the RLD graph W as a sparse matrix and the
two-layer GCN trained on it, with label-embedding inputs (as the paper) or image features.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229),
docs/science.md, "Probes". Plain torch sparse ops. Test labels are read only to score,
after every choice (the training step) has been made on held-out training labels.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from lab.measures.density import check_tau, rld_weight_blocks
from lab.measures.features import check_features, l2_normalize, mean_pairwise_distance
from lab.measures.neighbours import knn_search
from lab.measures.probes.common import ProbeResult, accuracy, check_split, holdout_split, label_budget
from lab.measures.probes.gcn_fit import GCN_VARIANTS, fit_gcn, normalized_torch_csr

__all__ = [
    "GCN_VARIANTS",
    "check_label_reach",
    "fit_gcn",
    "gcn_probe",
    "label_reach",
    "rld_graph",
    "row_lse_estimate",
]


# ---------------------------------------------------------------- the graph
def rld_graph(
    x: np.ndarray,
    tau: float = 0.2,
    k: int = 50,
    dense_max: int = 10_000,
    seed: int = 0,
    neighbors: tuple[np.ndarray, np.ndarray] | None = None,
) -> torch.Tensor:
    """Normalised adjacency D^-1/2 W D^-1/2 of the RLD graph W_ij = P(j|i) P(i|j) (no self loops).

    Zhang, Lu & Xuan 2023 GCN probe graph [P], on unit-length features with s_ij = -d_ij/mean d.
    N <= dense_max: the exact dense W [P]. Larger N [L]: W kept on faiss top-k edges, the row
    normaliser lse_i = kNN part + tail estimated from 2048 shared random columns, then
    symmetrised (W + W^T)/2 as the paper's to_spare; returned as torch sparse CSR, never N x N.
    x: [N, d]; neighbors: optional (sims, idx) [N, >=k] from knn_search(x, k) to reuse.
    Returns [N, N] float32 tensor (dense or sparse CSR).
    """
    x = l2_normalize(check_features(x))
    n = len(x)
    check_tau(tau)
    scale = 1.0 / (mean_pairwise_distance(x, seed=seed) * tau)
    if n <= dense_max:
        w = torch.cat([block for _, _, block in rld_weight_blocks(x, scale)])
        d = w.sum(1).clamp_(min=1e-30).rsqrt_()
        return w.mul_(d[:, None]).mul_(d[None, :])
    return _sparse_rld_graph(x, scale, min(k, n - 1), seed, neighbors)


def _sparse_rld_graph(x: np.ndarray, scale: float, k: int, seed: int, neighbors) -> torch.Tensor:
    """The kNN-sparsified RLD graph [L] of rld_graph for unit-length x [N, d]; see there."""
    n = len(x)
    sims, idx = knn_search(x, k) if neighbors is None else (neighbors[0][:, :k], neighbors[1][:, :k])
    t_knn = np.sqrt(np.maximum(2 - 2 * sims.astype(np.float64), 0)) * -scale  # [N, k] s_ij / tau
    lse = row_lse_estimate(x, scale, t_knn, idx, seed)
    src = np.repeat(np.arange(n), k)
    w = np.exp(2 * t_knn.ravel() - lse[src] - lse[idx.ravel()])
    half = sp.csr_matrix((w, (src, idx.ravel())), shape=(n, n))
    return normalized_torch_csr((half + half.T) / 2)  # the paper's to_spare symmetrisation


def row_lse_estimate(
    x: np.ndarray, scale: float, t_knn: np.ndarray, idx: np.ndarray, seed: int = 0, n_cols: int = 2048
) -> np.ndarray:
    """log sum_{j != i} exp(t_ij), t_ij = -scale * ||x_i - x_j||: exact over the kNN, sampled tail [L].

    The tail over the other N - 1 - k points is their count times the mean of exp(t_ij) over
    n_cols shared random columns (excluding the row's neighbours and itself). x: [N, d] unit-length;
    t_knn, idx: [N, k]. Returns [N] float64.
    """
    n, k = idx.shape
    t_max = t_knn.max(1)
    cols = np.random.default_rng(seed).choice(n, min(n_cols, n), replace=False)
    pos = np.full(n, -1)
    pos[cols] = np.arange(len(cols))
    tail = np.empty(n)  # mean of exp(t_ij - t_max_i) over the sampled tail columns
    xt = torch.from_numpy(x)
    xc = xt[cols]
    for r0 in range(0, n, 8192):
        r1 = min(n, r0 + 8192)
        e = (xt[r0:r1] @ xc.T).mul_(-2).add_(2).clamp_(min=0).sqrt_().mul_(-scale)  # -scale * distance
        e = e.sub_(torch.from_numpy(t_max[r0:r1, None]).float())
        e = e.exp_().numpy()
        hit = pos[np.concatenate([idx[r0:r1], np.arange(r0, r1)[:, None]], 1)]  # sampled columns to skip
        skip = np.where(hit >= 0, e[np.arange(r1 - r0)[:, None], np.maximum(hit, 0)], 0).sum(1)
        tail[r0:r1] = (e.sum(1, dtype=np.float64) - skip) / np.maximum(len(cols) - (hit >= 0).sum(1), 1)
    return t_max + np.log(np.exp(t_knn - t_max[:, None]).sum(1) + tail * (n - 1 - k))


MIN_LABEL_REACH = 0.2  # share of test images with a fit label among their REACH_K neighbours [L, measured]
REACH_K = 50  # the sparse graph's neighbours per node


def label_reach(neighbors: np.ndarray, labelled: np.ndarray) -> float:
    """Share of query nodes with at least one labelled node among their neighbours.

    neighbors: [Nq, k] node indices (self excluded); labelled: [N] bool. The label-input GCN sees
    labels only through the graph: a node with no labelled node near it gets the output of the
    "unknown" token, the same class for all of them [L, measured: on 2,000 Fashion-MNIST images,
    GCN accuracy followed this share: 0.06 -> 0.10 (chance), 0.18 -> 0.11, 0.42 -> 0.43, 0.65 -> 0.65]."""
    return float(np.asarray(labelled)[np.asarray(neighbors)].any(1).mean())


def _fit_rows(y_train: np.ndarray, budget: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(known rows, the rows among them the GCN fits on): the rest of the known are its val slice."""
    _, y_idx = np.unique(y_train, return_inverse=True)
    known = label_budget(y_train, budget, seed)
    fit_rel, val_rel = holdout_split(y_idx[known], 0.1, seed)
    return known, known[fit_rel], known[val_rel]


def _pct(b: float) -> str:
    return f"{100 * b:.3g}%"


BUDGET_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def check_label_reach(x_train, y_train, x_test, budget: float, seed: int = 0, neighbors=None) -> None:
    """Refuse a label budget the label-input GCN cannot learn from, saying the smallest of BUDGET_STEPS
    that it can [L, measured]. It learns by hiding known labels and predicting them from the labels
    near them, so (1) each class needs at least 2 labels to fit on (a class's only label, hidden, has no
    label of its class near it: at 1 % of a 2,000-image subset, 1 per class, it scored 0.094, chance),
    and (2) the fit labels must reach MIN_LABEL_REACH of the test images (label_reach).
    neighbors: [N, >=REACH_K] kNN rows over train + test (e.g. the run's stored table)."""
    n = len(x_train)
    if neighbors is None:
        _, neighbors = knn_search(np.concatenate([x_train, x_test]), min(REACH_K, n + len(x_test) - 1),
                                  query_rows=np.arange(n, n + len(x_test)))  # fmt: skip
    else:
        neighbors = np.asarray(neighbors)[n:, :REACH_K]

    def problem(b: float) -> str | None:
        try:
            fit = _fit_rows(y_train, b, seed)[1]
        except ValueError as exc:  # too few labels for label_budget itself
            return str(exc)
        fewest = np.unique(np.asarray(y_train)[fit], return_counts=True)[1].min()
        if fewest < 2 or len(np.unique(np.asarray(y_train)[fit])) < len(np.unique(y_train)):
            return (f"budget {_pct(b)} leaves {fewest} label(s) of a class to fit on; the label-input GCN learns by "
                    "hiding a known label and predicting it from the labels near it, so it needs at least 2 per class")  # fmt: skip
        labelled = np.zeros(n + len(x_test), bool)
        labelled[fit] = True
        share = label_reach(neighbors, labelled)
        if share < MIN_LABEL_REACH:
            return (f"budget {_pct(b)} leaves {len(fit)} labels to fit on, and only {share:.0%} of the test images have "
                    f"one among their {neighbors.shape[1]} nearest neighbours; the label-input GCN would give the others "
                    f"one class (chance); it needs at least {MIN_LABEL_REACH:.0%}")  # fmt: skip
        return None

    why = problem(budget)
    if why is None:
        return
    enough = next((b for b in BUDGET_STEPS if b > budget and problem(b) is None), None)
    raise ValueError(
        f"{why}: {f'a budget of {_pct(enough)} does here' if enough else 'no budget does here'}."
    )


def gcn_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray | None,
    variant: str = "labels",
    tau: float = 0.2,
    budget: float = 1.0,
    seed: int = 0,
    steps: int = 60,
    eval_every: int = 5,
    graph: torch.Tensor | None = None,
    neighbors: np.ndarray | None = None,
) -> ProbeResult:
    """GCN probe over the RLD graph of train + test points; test labels are used only to score.

    Zhang, Lu & Xuan 2023 GCN probe [P]; budget, val-slice selection and sparse graph [L].
    Known labels: label_budget(y_train, budget, seed); 10 % of them (stratified) are the val slice
    that selects the step. graph: a precomputed rld_graph(vstack([x_train, x_test]), tau) to reuse.
    The "labels" variant refuses a budget whose fit labels reach too few test images
    (check_label_reach: ValueError saying the budget that would do). neighbors: [N, >=50] kNN rows of
    train + test to reuse for that check. x: [N, d]; y: [N].
    Returns ProbeResult(accuracy, predictions, {"step", "val_accuracy", ...}).
    """
    x_train, x_test = check_split(x_train, y_train, x_test, y_test)
    classes, y_idx = np.unique(y_train, return_inverse=True)
    if variant == "labels":
        check_label_reach(x_train, y_train, x_test, budget, seed, neighbors)
    known, _, val = _fit_rows(y_train, budget, seed)
    node_labels = np.full(len(x_train) + len(x_test), -1)
    node_labels[known] = y_idx[known]
    n = len(node_labels)
    adj = rld_graph(np.concatenate([x_train, x_test]), tau, seed=seed) if graph is None else graph
    if adj.shape != (n, n):
        raise ValueError(f"graph is {tuple(adj.shape)} but train + test has {n} nodes; rebuild it.")
    feats = np.concatenate([x_train, x_test]) if variant == "features" else None
    pred, step, val_acc = fit_gcn(
        adj, node_labels, val, len(classes), variant, feats, steps, eval_every, seed
    )
    pred = classes[pred[len(x_train) :]]
    chosen = {"step": step, "val_accuracy": val_acc, "tau": tau, "n_labels": len(known)}
    return ProbeResult(f"gcn-{variant}", accuracy(pred, y_test), pred, chosen)
