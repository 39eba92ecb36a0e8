"""The methods SAG-VICReg adds to the lab: `vicreg` (its baseline) and `sag-vicreg`.

VICReg: Bardes, Ponce & LeCun 2022 [P] (lab.core.vicreg). SAG-VICReg: Simai, Talmon & Shaham 2025
(arXiv 2506.18104), random-walk positives [P idea, L details: spec 1]. Every sag-vicreg run records its
walk precision (share of walk endpoints with the start's label; display only, labels never enter the
loss) and the last batch's walks (start, path, end) for the kNN-graph page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lab.core.methods import Method, Param, Step, two_view_z
from lab.core.vicreg import expander, vicreg_loss
from lab.papers.sag2025.constants import ENDPOINTS, OMEGA, OMEGA_OFF, OMEGA_RAMP, WALK_K, WALK_T, WALKS_LOGGED
from lab.papers.sag2025.losses import BatchWalks, batch_walks, omega_at, sag_vicreg_loss

SAG_K = Param("sag_k", WALK_K, "Neighbours per image in each batch's kNN graph (below the batch size).", "[L]",
              low=1, step=1, ui_range=(1, 30), label="Walk graph k")  # fmt: skip
SAG_T = Param("sag_t", WALK_T, "Steps of each random walk (at least 1; longer walks reach farther).", "[L]",
              low=1, step=1, ui_range=(1, 10), label="Walk steps t")  # fmt: skip
SAG_OMEGA = Param("sag_omega", OMEGA, "Weight of the random-walk invariance after the warm-up (0 for the first "
                  "10 % of steps, a ramp over the next 10 %); 0 is VICReg exactly.", "[L]", low=0.0, high=1.0,
                  step=0.05, label="ω (weight of the walk positives)")  # fmt: skip
SAG_ENDPOINT = Param("sag_endpoint", "sample", "sample: view 2 of one walk endpoint j ~ P^t; expected: the "
                     "P^t-weighted invariance over every endpoint.", "[L]", choices=ENDPOINTS,
                     label="Walk endpoint")  # fmt: skip


def _vicreg(s: Step) -> torch.Tensor:
    return vicreg_loss(*two_view_z(s.model, s.views))


@dataclass
class WalkLog:
    """SAG-VICReg's state: the walks' random generator, and what the run records about its walks."""

    generator: torch.Generator
    precision: list = field(default_factory=list)  # per step, a 0-d tensor (read back once, at the end)
    last_rows: torch.Tensor | None = None  # [B, t + 1] training rows of the last batch's walks
    last_labels: torch.Tensor | None = None  # [B] labels of the last batch (for its precision)


def _setup(config, dataset, device: torch.device) -> WalkLog:
    return WalkLog(torch.Generator(device=device).manual_seed(config.seed))


def _log_walks(s: Step, walks: BatchWalks) -> None:
    ends = walks.paths[:, -1]
    precision = (s.labels[ends] == s.labels).float().mean()  # display only: never enters the loss
    s.log["walk_precision"] = precision
    s.log["walk_returns"] = (ends == walks.paths[:, 0]).float().mean()
    s.state.precision.append(precision)
    s.state.last_rows, s.state.last_labels = s.index[walks.paths], s.labels


def _sag_vicreg(s: Step) -> torch.Tensor:
    y1, y2 = two_view_z(s.model, s.views)
    p = s.params
    walks = batch_walks(y1, p["sag_k"], p["sag_t"], p["sag_endpoint"] == "expected", s.state.generator)
    _log_walks(s, walks)
    omega = omega_at(s.step, s.total_steps, p["sag_omega"], OMEGA_OFF, OMEGA_RAMP)
    return sag_vicreg_loss(y1, y2, walks, omega)


def _record(state: WalkLog) -> dict:
    """What a sag-vicreg run stores in metrics.json ("method"), beside the run means of Step.log."""
    if state.last_rows is None:
        return {}
    rows = state.last_rows[:WALKS_LOGGED].cpu()
    curve = torch.stack(state.precision).float().cpu().tolist()
    return {"walks": rows.tolist(), "walk_precision_last": curve[-1], "walk_precision_curve": curve}


def _check(cfg) -> None:
    """k below the batch (a point has batch - 1 others to walk to) [L]."""
    batch = min(cfg.batch_size, cfg.subset) if cfg.subset else cfg.batch_size
    k = cfg.param("sag_k")
    if k > batch - 1:
        raise ValueError(f"sag_k = {k} neighbours needs batches of more than {k} images, but this config's "
                         f"batches hold {batch}. Lower sag_k below {batch} or raise batch_size.")  # fmt: skip


VICREG = Method(
    "vicreg", "VICReg: invariance, variance and covariance terms between two views (no negatives)",
    "[P; 512-wide expander L]", uses_labels=False, n_views=2, loss=_vicreg, projector=expander,
)  # fmt: skip
SAG_VICREG = Method(
    "sag-vicreg", "VICReg plus random-walk positives on each batch's kNN graph (Simai et al. 2025)",
    "[P idea, L details]", uses_labels=False, n_views=2, loss=_sag_vicreg,
    params=(SAG_K, SAG_T, SAG_OMEGA, SAG_ENDPOINT), projector=expander, setup=_setup, record=_record, check=_check,
)  # fmt: skip
