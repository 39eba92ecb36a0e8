"""`python -m lab reproduce zhang2023 [--quick]`: the paper's claims re-measured at the lab's scale.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229),
docs/science.md, sections "Zhang 2023" and "Fidelity". Trains (or reuses from the run store) a
supervised and a SimCLR run with the lab's default configs, measures both and the raw-pixel
(PCA-64) baseline with lab.papers.zhang2023.analysis, and writes docs/reproduce/zhang2023.md and
.json: the numbers beside the paper's direction of effect, and one verdict per claim (*reproduced*,
*partly*, *not at this scale*) computed from the numbers by the rules in claims.judge_claims.
Plain Python: `main()` is the whole command; the CLI only parses its flags.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lab.core.config import TrainConfig, protocol_config
from lab.measures.probes.table import BUDGETS, GCN_STEPS
from lab.papers.reports import reproduce_per_dataset
from lab.papers.zhang2023 import analysis
from lab.papers.zhang2023.claims import judge_claims
from lab.papers.zhang2023.constants import (
    CITE,
    KEY,
    PAIRS_TOP,
    PURITY_PS,
    PURITY_QUERIES,
    REPORT_TAUS,
    RLD_DRAWS,
    RLD_N,
)
from lab.papers.zhang2023.probes import run_probe_table
from lab.papers.zhang2023.report import render_markdown
from lab.store.baselines import pixel_baseline_of
from lab.store.runs import RunStore
from lab.view.labels import run_label

DATASET_NAMES = {"fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "digits": "digits (sklearn)"}


@dataclass(frozen=True)
class Scale:
    """How much is trained and measured: the full command or --quick [L]."""

    subset: int | None  # training images (None = all)
    epochs: float | None  # None = the protocol's default (lab.core.config.default_epochs)
    rld_n: int  # points per RLD draw
    rld_draws: int
    purity_queries: int
    gcn_steps: int
    rld_all_tau: float | None = None  # also the exact RLD of ALL training rows at this τ (None: skip)


FULL = Scale(subset=None, epochs=None, rld_n=RLD_N, rld_draws=RLD_DRAWS, purity_queries=PURITY_QUERIES,
             gcn_steps=GCN_STEPS, rld_all_tau=0.2)  # fmt: skip
QUICK = Scale(subset=10_000, epochs=1.0, rld_n=5_000, rld_draws=3, purity_queries=5_000, gcn_steps=40)


def reproduce_configs(dataset: str, quick: bool = False) -> dict[str, TrainConfig]:
    """The two runs compared: the protocol recipe (lab.core.config.PROTOCOL_RECIPE), supervised and simclr."""
    scale = QUICK if quick else FULL
    return {
        method: protocol_config(dataset=dataset, method=method, subset=scale.subset, epochs=scale.epochs)
        for method in ("supervised", "simclr")
    }


# ---------------------------------------------------------------- measuring one representation
def measure(rep, scale: Scale, log: Callable[[str], None] = print) -> dict:
    """RLD (per τ, mean ± sd over draws), CHS, purity curve and the probe table of a run or the
    pixel baseline, through lab.papers.zhang2023.analysis (so the app shows the same cached numbers)."""
    name = run_label(rep, score=False, ident=True)
    out: dict = {"name": name, "seconds": {}}
    start = time.perf_counter()
    out["rld"] = {}
    for tau in REPORT_TAUS:
        r = analysis.run_rld(rep, tau=tau, n=scale.rld_n, draws=scale.rld_draws)
        out["rld"][f"{tau:g}"] = {"mean": r.estimate.mean, "std": r.estimate.std,
                                  "values": r.estimate.values.tolist(), "n": r.estimate.n}  # fmt: skip
    out["seconds"]["rld"] = round(time.perf_counter() - start, 1)
    if scale.rld_all_tau is not None:  # the subsample estimate checked against the exact value
        t = time.perf_counter()
        n_train = int((~np.asarray(rep.is_test)).sum())
        r = analysis.run_rld(rep, tau=scale.rld_all_tau, n=n_train, draws=1)
        out["rld_all"] = {"tau": scale.rld_all_tau, "value": r.estimate.mean, "n": r.estimate.n,
                          "seconds": r.seconds}  # fmt: skip
        out["seconds"]["rld_all"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    out["chs"] = analysis.run_chs(rep)
    curve = analysis.run_purity_curve(rep, ps=PURITY_PS, n_queries=scale.purity_queries)
    out["purity"] = {str(int(p)): float(v) for p, v in zip(curve.ps, curve.overall, strict=True)}
    out["smallest_class"] = int(np.unique(rep.labels[~np.asarray(rep.is_test)], return_counts=True)[1].min())
    out["seconds"]["chs_purity"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    out["probes"] = run_probe_table(rep, steps=scale.gcn_steps,
                                             progress=lambda f, m: None)  # fmt: skip
    out["seconds"]["probes"] = round(time.perf_counter() - t, 1)
    log(f"  {name}: RLD {out['seconds']['rld']} s, CHS + purity {out['seconds']['chs_purity']} s, "
        f"probes {out['seconds']['probes']} s")  # fmt: skip
    return out


def pairs_summary(simclr_run, supervised_run, top: int = PAIRS_TOP) -> dict:
    """SimCLR's most similar cross-class training pairs and the same pairs' cosine under supervision."""
    p = analysis.run_cross_class_pairs(simclr_run, supervised_run, top=top)
    return {"top1_simclr": float(p.cosine[0]), "top1_supervised": float(p.cosine_other[0]),
            "mean_simclr": float(p.cosine.mean()), "mean_supervised": float(p.cosine_other.mean()),
            "n_pairs": len(p.cosine)}  # fmt: skip


def _run_facts(run) -> dict:
    m = run.metrics
    return {"id": run.id, "config": run.config.to_dict(), "train_seconds": m.get("train_seconds", 0.0),
            "device": m.get("device", "?"), "knn_acc": m["knn_acc"], "linear_acc": m["linear_acc"]}  # fmt: skip


def reproduce_dataset(
    dataset: str, quick: bool, store: RunStore, log: Callable[[str], None] = print, train_progress=None
) -> dict:
    """Train or reuse both runs of one dataset, measure them and the pixels, judge the claims."""
    scale = QUICK if quick else FULL
    runs = {}
    for method, cfg in reproduce_configs(dataset, quick).items():
        t = time.perf_counter()
        run, stored = store.get_or_train(cfg, progress=train_progress)
        log(f"  {method}: {'reused' if stored else 'trained'} run {run.id} ({time.perf_counter() - t:.0f} s)")
        runs[method] = run
    start = time.perf_counter()
    measures = {m: measure(r, scale, log) for m, r in runs.items()}
    for m, r in runs.items():
        measures[m]["stored_linear"] = r.metrics.get("linear_acc")  # the run's stored score, all train labels
    measures["pixels"] = measure(pixel_baseline_of(runs["simclr"]), scale, log)
    pairs = pairs_summary(runs["simclr"], runs["supervised"])
    sim = runs["simclr"]
    return {
        "dataset": dataset,
        "title": DATASET_NAMES.get(dataset, dataset) + (", quick" if quick else ""),
        "scale": asdict(scale),
        "n_train": int((~sim.is_test).sum()),
        "n_test": int(sim.is_test.sum()),
        "epochs": sim.config.epochs,
        "encoder": f"{sim.config.encoder}-{sim.config.width}, p = {sim.config.embedding_size}",
        "budgets": list(BUDGETS),
        "runs": {m: _run_facts(r) for m, r in runs.items()},
        "measures": measures,
        "pairs": pairs,
        "claims": judge_claims(measures, pairs),
        "analysis_seconds": round(time.perf_counter() - start, 1),
    }


def default_datasets() -> tuple[str, ...]:
    """Fashion-MNIST, and CIFAR-10 when its files are already here (never downloaded for this)."""
    from lab.core.data import available_datasets

    present = not available_datasets().get("cifar10", "unavailable").startswith("unavailable")
    return ("fashion-mnist", "cifar10") if present else ("fashion-mnist",)


def main(quick: bool = False, runs_dir: str | os.PathLike | None = None, datasets: tuple[str, ...] | None = None,
         out_dir: str | os.PathLike | None = None, log: Callable[[str], None] = print,
         train_progress: Callable | None = None) -> Path:  # fmt: skip
    """Reproduce Zhang, Lu & Xuan 2023 at the lab's scale; write the .md and .json reports.

    quick: a 10,000-image training subset, 1 epoch, smaller RLD/purity samples (a few minutes on
    2 cores). datasets: default Fashion-MNIST (+ CIFAR-10 when present); tests pass ("digits",).
    out_dir: default docs/reproduce/. log: one line per phase. train_progress: passed to
    RunStore.get_or_train (e.g. the CLI's ProgressBar). Returns the path of the Markdown report.
    """
    return reproduce_per_dataset(KEY, CITE, "the supervised and SimCLR runs", reproduce_dataset, render_markdown,
                                 quick=quick, runs_dir=runs_dir, datasets=datasets, default=default_datasets(),
                                 out_dir=out_dir, log=log, train_progress=train_progress)  # fmt: skip
