"""The methods SePP adds to the lab: `sepp-simclr` and `sepp-vicreg`.

Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122): semantic positive pairs mined once from un-augmented
images [P idea]; samplers, filters, modes and the VICReg variant are the lab's [L] (spec 1). Every run
records its pair precision, coverage, mean partners per image and its sampler (metrics.json, "method").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.core import losses
from lab.core.methods import TEMPERATURE, Method, Param, Step
from lab.core.vicreg import expander, vicreg_loss
from lab.papers.sepp2023.constants import (
    MODES,
    PARTNERS_K,
    REPLACE_SHARE,
    RUN_SAMPLER,
    SAMPLER_TEXT,
    SAMPLERS,
)
from lab.papers.sepp2023.losses import multi_positive_nt_xent, sepp_vicreg_loss
from lab.papers.sepp2023.samplers import partners_for

SEPP_SAMPLER = Param("sepp_sampler", "pixels", "Where partners come from: " + "; ".join(
    f"{k}: {v}" for k, v in SAMPLER_TEXT.items()) + ".", "[L]", choices=SAMPLERS, label="Partner sampler")  # fmt: skip
SEPP_SAMPLER_RUN = Param("sepp_sampler_run", "", "The id of the stored run whose backbone mines the partners, "
                         "when the sampler is 'run' (any stored run of this run's dataset: another method, "
                         "epochs or subset).", "[L]", label="Sampler run", keyed_at_default=False,
                         names_run=True, shown_when=("sepp_sampler", RUN_SAMPLER))  # fmt: skip
SEPP_K = Param("sepp_k", PARTNERS_K, "Nearest neighbours (cosine, faiss) kept as partners per image.", "[L]",
               low=1, step=1, ui_range=(1, 20), label="Partners per image k")  # fmt: skip
SEPP_QUANTILE = Param("sepp_quantile", 0.0, "Keep only pairs whose cosine reaches this quantile of all top-k "
                      "cosines (0 keeps all).", "[L]", low=0.0, high=1.0, step=0.05,
                      label="Threshold quantile")  # fmt: skip
SEPP_MUTUAL = Param("sepp_mutual", "off", "on: keep a pair only when each image is among the other's k nearest.",
                    "[L]", choices=("off", "on"), label="Mutual neighbours only")  # fmt: skip
SEPP_MODE = Param("sepp_mode", "add", "add: a view of a partner as a third positive; replace: the twin view "
                  "replaced by a partner's view half of the time.", "[L]", choices=MODES, label="Partner mode")  # fmt: skip
SEPP_BETA = Param("sepp_beta", 1.0, "Weight of the partner positive beside the twin (add mode).", "[L]", low=0.0,
                  step=0.1, ui_range=(0.0, 2.0), label="Semantic weight β")  # fmt: skip
SEPP_PARAMS = (SEPP_SAMPLER, SEPP_SAMPLER_RUN, SEPP_K, SEPP_QUANTILE, SEPP_MUTUAL, SEPP_MODE, SEPP_BETA)


@dataclass
class PartnerTable:
    """A SePP run's state: every training image's partners on the device, and what the run records."""

    idx: torch.Tensor  # [N, k] int64, kept partners first, -1 after
    counts: torch.Tensor  # [N]
    generator: torch.Generator
    record: dict


def _setup(config, dataset, device: torch.device) -> PartnerTable:
    mined = partners_for(config, dataset, device)
    idx = torch.as_tensor(mined.partners.idx, dtype=torch.long, device=device)
    return PartnerTable(
        idx, (idx >= 0).sum(1), torch.Generator(device=device).manual_seed(config.seed), mined.record
    )


def _record(state: PartnerTable) -> dict:
    return dict(state.record)


def _draw_partners(s: Step) -> torch.Tensor:
    """One partner per image of the batch, drawn afresh at every step among its kept ones; -1 for none."""
    t = s.state
    counts = t.counts[s.index]
    pick = (torch.rand(len(counts), generator=t.generator, device=counts.device) * counts).long()
    partner = t.idx[s.index, pick.clamp(max=t.idx.shape[1] - 1)]
    return torch.where(counts > 0, partner, -1)


def _replaced_twins(s: Step, partner: torch.Tensor) -> list[torch.Tensor]:
    """Replace mode: the second view of REPLACE_SHARE of the images with a partner is a view of the partner."""
    swap = (partner >= 0) & (
        torch.rand(len(partner), generator=s.state.generator, device=partner.device) < REPLACE_SHARE
    )
    second = s.views[1].clone()
    if swap.any():
        second[swap] = s.augment(s.images[partner[swap]])
    return [s.views[0], second]


def _forward(s: Step) -> tuple[torch.Tensor, ...]:
    """(z1, z2, zs, owner): the two views' and, in add mode, the partners' projector outputs."""
    partner = _draw_partners(s)
    if s.params["sepp_mode"] == "replace":
        _, z = s.model(torch.cat(_replaced_twins(s, partner)))
        z1, z2 = z.chunk(2)
        return z1, z2, z1[:0], partner[:0]
    owner = torch.nonzero(partner >= 0).squeeze(1)
    views = [*s.views, s.augment(s.images[partner[owner]])] if len(owner) else s.views
    _, z = s.model(torch.cat(views))  # one pass: BatchNorm statistics over all views
    n = len(s.views[0])
    return z[:n], z[n : 2 * n], z[2 * n :], owner


def _sepp_simclr(s: Step) -> torch.Tensor:
    z1, z2, zs, owner = _forward(s)
    if len(zs) == 0:
        return losses.nt_xent(z1, z2, s.params["temperature"])
    return multi_positive_nt_xent(z1, z2, zs, owner, s.params["temperature"], s.params["sepp_beta"])


def _sepp_vicreg(s: Step) -> torch.Tensor:
    y1, y2, ys, owner = _forward(s)
    return vicreg_loss(y1, y2) if len(ys) == 0 else sepp_vicreg_loss(y1, y2, ys, owner, s.params["sepp_beta"])


def _check(cfg) -> None:
    """Cross-field checks before training [L]: k below the training images, mutual only from k = 2, a
    sampler run named exactly when the sampler is 'run' (whether it is stored is the setup's check)."""
    sampler, sampler_run = cfg.param("sepp_sampler"), cfg.param("sepp_sampler_run")
    if sampler == RUN_SAMPLER and not sampler_run:
        raise ValueError("sepp_sampler 'run' mines with a stored run's backbone: name it with sepp_sampler_run "
                         "(--sepp-sampler-run ID; `python -m lab runs` lists the ids), or pick another sampler.")  # fmt: skip
    if sampler != RUN_SAMPLER and sampler_run:
        raise ValueError(f"sepp_sampler_run {sampler_run} is used only by sepp_sampler 'run', but the sampler is "
                         f"'{sampler}'. Set sepp_sampler run, or leave sepp_sampler_run out.")  # fmt: skip
    k = cfg.param("sepp_k")
    if cfg.subset is not None and k > cfg.subset - 1:
        raise ValueError(f"sepp_k = {k} partners per image needs more than {k} training images, but subset = "
                         f"{cfg.subset}. Lower sepp_k or train on more images.")  # fmt: skip
    if cfg.param("sepp_mutual") == "on" and k < 2:
        raise ValueError("sepp_mutual on needs sepp_k of 2 or more: at k = 1 the mutual filter leaves most "
                         "images without a partner. Raise sepp_k or turn the filter off.")  # fmt: skip


SEPP_SIMCLR = Method(
    "sepp-simclr", "SimCLR with mined semantic partners as extra positives (Alkhalefi et al. 2023)",
    "[P idea, L details]", uses_labels=False, n_views=2, loss=_sepp_simclr, params=(TEMPERATURE, *SEPP_PARAMS),
    setup=_setup, record=_record, check=_check,
)  # fmt: skip
SEPP_VICREG = Method(
    "sepp-vicreg", "VICReg with mined semantic partners in its invariance term (SePP on VICReg)", "[L]",
    uses_labels=False, n_views=2, loss=_sepp_vicreg, params=SEPP_PARAMS, projector=expander, setup=_setup,
    record=_record, check=_check,
)  # fmt: skip
