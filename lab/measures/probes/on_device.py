"""The run's scores on the training device (a GPU): the same kNN vote and linear probe as
lab.measures.probes.scores, written in torch so that a run trained on a GPU is scored there instead
of waiting for the CPU [L].

- kNN: exact cosine top-k by blocked matmul and torch.topk (lab.measures.neighbours.matmul_topk), then the same weighted vote (k = 20,
  exp(sim / 0.07)); the same neighbours as faiss's exact search up to ties.
- linear: the same pipeline as `linear_model` — L2-normalise, standardise with the training rows'
  mean and standard deviation, multinomial logistic regression with sklearn's penalty (C · Σ log-loss +
  ½‖W‖², intercept not penalised) — minimised by full-batch L-BFGS in float32; its accuracy agrees with
  sklearn's to within a few tenths of a percent, not to the last digit.
The CPU keeps faiss and scikit-learn (`use_device` says which path a device takes).
"""

from __future__ import annotations

import numpy as np
import torch

from lab.measures.neighbours import matmul_topk
from lab.measures.probes.knn import KNN_K, KNN_T


def use_device(device: torch.device | str | None) -> bool:
    """Score on the device itself: on CUDA (MPS was never measured; the CPU path is faiss and scikit-learn)."""
    return device is not None and torch.device(device).type == "cuda"


def _tensor(x, device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=device)


@torch.inference_mode()
def knn_accuracy_on(train_x, train_y, test_x, test_y, device, k: int = KNN_K, t: float = KNN_T) -> float:
    """kNN accuracy (lab.measures.probes.knn.knn_probe's vote) computed on `device`."""
    k = min(k, len(train_x))
    tr = torch.nn.functional.normalize(_tensor(train_x, device), dim=1)
    te = torch.nn.functional.normalize(_tensor(test_x, device), dim=1)
    classes, y_idx = np.unique(np.asarray(train_y), return_inverse=True)
    y = torch.as_tensor(y_idx, device=device)
    sims, idx = matmul_topk(te, tr, k)
    votes = torch.zeros(len(sims), len(classes), device=device)
    votes.scatter_add_(1, y[idx], torch.exp(sims / t))
    pred = classes[votes.argmax(1).cpu().numpy()]
    return float((pred == np.asarray(test_y)).mean())


def linear_accuracy_on(
    train_x, train_y, test_x, test_y, device, c: float = 1.0, max_iter: int = 200
) -> float:
    """The lab's linear probe (`linear_model`) fitted and scored on `device`."""
    classes, y_idx = np.unique(np.asarray(train_y), return_inverse=True)
    with torch.no_grad():
        tr = torch.nn.functional.normalize(_tensor(train_x, device), dim=1)
        te = torch.nn.functional.normalize(_tensor(test_x, device), dim=1)
        mean, std = tr.mean(0), tr.std(0, unbiased=False)
        std = torch.where(std > 0, std, torch.ones_like(std))  # sklearn leaves constant columns unscaled
        tr, te = (tr - mean) / std, (te - mean) / std
    y = torch.as_tensor(y_idx, device=device)
    w = torch.zeros(tr.shape[1], len(classes), device=device, requires_grad=True)
    b = torch.zeros(len(classes), device=device, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=max_iter, tolerance_grad=1e-5, tolerance_change=1e-9,
                            history_size=20, line_search_fn="strong_wolfe")  # fmt: skip
    n = len(tr)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tr @ w + b, y, reduction="sum") / n + (w * w).sum() / (
            2 * c * n
        )
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        pred = classes[(te @ w + b).argmax(1).cpu().numpy()]
    return float((pred == np.asarray(test_y)).mean())
