"""SAG-VICReg's random-walk invariance: positives from walks on each batch's kNN graph.

Simai, Talmon & Shaham 2025 (arXiv 2506.18104): the idea [P]; the kernel, steps, weights and warm-up
are the lab's reading [L] (spec 1, docs/science.md, "SAG-VICReg"). VICReg itself: lab.core.vicreg.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from lab.core.vicreg import invariance, vicreg_loss
from lab.measures.features import torch_threads
from lab.measures.graphs import gaussian_knn_kernel, sample_walks, transition_matrix, walk_matrix


def omega_at(step: int, total_steps: int, omega: float, off: float = 0.1, ramp: float = 0.1) -> float:
    """The weight of the random-walk term at a step [L]: 0 for the first `off` share of the steps, then
    a linear ramp over the next `ramp` share, then omega."""
    start, length = off * total_steps, ramp * total_steps
    if step < start:
        return 0.0
    if length <= 0 or step >= start + length:
        return omega
    return omega * (step - start) / length


@dataclass
class BatchWalks:
    """The walks of one batch: paths in batch positions, and P^t when the expected form needs it."""

    paths: torch.Tensor  # [B, t + 1] batch positions, start i first, endpoint j(i) last
    p_t: torch.Tensor | None  # [B, B] P^t (the expected form only)


@torch.no_grad()
def batch_walks(y1: torch.Tensor, k: int, t: int, expected: bool, generator: torch.Generator | None = None) -> BatchWalks:  # fmt: skip
    """Walks from every point of a batch on the kNN Gaussian graph of its stop-gradient view-1 expander
    outputs y1 [B, d] (spec 1, SAG steps 1-3): one t-step walk per point, and P^t when `expected`."""
    # One thread on the CPU: these small ops ran 13-20x slower on 2 threads than on 1 while another process
    # used a core (176-268 ms against 11-13 ms per 512-image batch, measured); float32 under bf16 training.
    threads = torch_threads(1) if y1.device.type == "cpu" else contextlib.nullcontext()
    with threads, torch.autocast(y1.device.type, enabled=False):
        p = transition_matrix(gaussian_knn_kernel(y1.detach().float(), k))
        paths = sample_walks(p, torch.arange(len(y1), device=y1.device), t, generator)
        return BatchWalks(paths, walk_matrix(p, t) if expected else None)


def random_walk_invariance(y1: torch.Tensor, y2: torch.Tensor, walks: BatchWalks) -> torch.Tensor:
    """inv_RW [L]: "sample": mean_i ||y1_i - y2_j(i)||^2 / d, j(i) the walk's endpoint (view 1 of i with
    view 2 of j(i)); "expected" (walks.p_t given): mean_i sum_j P^t_ij ||y1_i - y2_j||^2 / d.
    y1, y2: [B, d]."""
    if walks.p_t is None:
        return invariance(y1, y2[walks.paths[:, -1]])
    a, b = y1.float(), y2.float()
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T  # ||y1_i - y2_j||^2, [B, B]
    return (walks.p_t * sq).sum(1).mean() / a.shape[1]


def sag_vicreg_loss(
    y1: torch.Tensor, y2: torch.Tensor, walks: BatchWalks | None, omega: float
) -> torch.Tensor:
    """SAG-VICReg [P idea, L form]: VICReg with inv_SAG = (1 - omega) inv + omega inv_RW; variance and
    covariance unchanged. omega = 0 (or no walks) is VICReg exactly. y1, y2: [B, d] expander outputs."""
    if omega == 0 or walks is None:
        return vicreg_loss(y1, y2)
    inv = (1 - omega) * invariance(y1, y2) + omega * random_walk_invariance(y1, y2, walks)
    return vicreg_loss(y1, y2, inv=inv)
