"""`python -m lab reproduce sag2025 [--quick]`: SAG-VICReg against VICReg at the lab's scale.

Simai, Talmon & Shaham 2025 (arXiv 2506.18104); docs/science.md, "SAG-VICReg" and "Global structure
(M1, M2)". Trains (or reuses from the run store) a VICReg and a SAG-VICReg run with the same settings
(batch 512), measures both and the raw-pixel (PCA-64) baseline on kNN accuracy, M1 and M2
(lab.papers.sag2025.analysis, the numbers the app shows), and writes docs/reproduce/sag2025.md and
.json with one verdict per claim by the rules of claims.judge_claims.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from lab.core.config import TrainConfig, protocol_config
from lab.papers.reports import reproduce_per_dataset
from lab.papers.sag2025.analysis import run_structure
from lab.papers.sag2025.claims import judge_claims
from lab.papers.sag2025.constants import CITE, KEY, SAG_BATCH
from lab.papers.sag2025.report import render_markdown
from lab.store.baselines import PIXELS_NAME, pixel_baseline_of
from lab.store.runs import RunStore

METHODS = ("vicreg", "sag-vicreg")


@dataclass(frozen=True)
class Scale:
    """How much is trained: the full command or --quick [L]."""

    subset: int | None  # training images (None = all)
    epochs: float | None  # None = the protocol's default (lab.core.config.default_epochs)
    batch_size: int


FULL = Scale(subset=None, epochs=None, batch_size=SAG_BATCH)
QUICK = Scale(subset=10_000, epochs=2.0, batch_size=SAG_BATCH)


def reproduce_configs(dataset: str, quick: bool = False) -> dict[str, TrainConfig]:
    """VICReg and SAG-VICReg with the same settings: the protocol recipe (lab.core.config.PROTOCOL_RECIPE) at batch 512."""
    scale = QUICK if quick else FULL
    return {m: protocol_config(dataset=dataset, method=m, subset=scale.subset, batch_size=scale.batch_size, epochs=scale.epochs)
            for m in METHODS}  # fmt: skip


def measure(rep, metrics: dict, name: str) -> dict:
    """kNN and linear accuracy (stored with the run), M1 and M2 of the test rows (cached), and the
    walk numbers a sag-vicreg run recorded."""
    s = run_structure(rep, "backbone")
    own = metrics.get("method", {})
    return {"name": name, "knn_acc": metrics["knn_acc"], "linear_acc": metrics["linear_acc"], "m1": s["m1"],
            "m2": s["m2"], "tree": s["tree"], "n_classes": int(rep.labels.max()) + 1,
            "walk_precision": own.get("walk_precision"), "walk_precision_last": own.get("walk_precision_last"),
            "walk_returns": own.get("walk_returns"), "structure_seconds": s["seconds"]}  # fmt: skip


def _run_facts(run, seconds: float, stored: bool) -> dict:
    m = run.metrics
    return {"id": run.id, "config": run.config.to_dict(), "train_seconds": m.get("train_seconds", 0.0),
            "device": m.get("device", "?"), "images_per_s": m.get("images_per_s"), "reused": stored,
            "wall_seconds": round(seconds, 1)}  # fmt: skip


def reproduce_dataset(dataset: str, quick: bool, store: RunStore, log: Callable[[str], None] = print,
                      train_progress=None) -> dict:  # fmt: skip
    """Train or reuse both runs of one dataset, measure them and the pixels, judge the claims."""
    runs, facts = {}, {}
    for method, cfg in reproduce_configs(dataset, quick).items():
        t = time.perf_counter()
        run, stored = store.get_or_train(cfg, progress=train_progress)
        facts[method] = _run_facts(run, time.perf_counter() - t, stored)
        log(
            f"  {method}: {'reused' if stored else 'trained'} run {run.id} ({facts[method]['wall_seconds']:.0f} s)"
        )
        runs[method] = run
    start = time.perf_counter()
    measures = {m: measure(r, r.metrics, m) for m, r in runs.items()}
    sag = runs["sag-vicreg"]
    measures["pixels"] = measure(pixel_baseline_of(sag), sag.metrics["pixels"], PIXELS_NAME)
    return {
        "dataset": dataset,
        "scale": asdict(QUICK if quick else FULL),
        "n_train": int((~sag.is_test).sum()),
        "n_test": int(sag.is_test.sum()),
        "encoder": f"{sag.config.encoder}-{sag.config.width}, p = {sag.config.embedding_size}",
        "walk": {k: sag.config.param(k) for k in ("sag_k", "sag_t", "sag_omega", "sag_endpoint")},
        "runs": facts,
        "measures": measures,
        "claims": judge_claims(measures),
        "analysis_seconds": round(time.perf_counter() - start, 1),
    }


def main(quick: bool = False, runs_dir: str | os.PathLike | None = None, datasets: tuple[str, ...] | None = None,
         out_dir: str | os.PathLike | None = None, log: Callable[[str], None] = print,
         train_progress: Callable | None = None) -> Path:  # fmt: skip
    """Reproduce Simai, Talmon & Shaham 2025 at the lab's scale; write the .md and .json reports.

    quick: a 10,000-image subset, 2 epochs at batch 512 (about a minute of training on 2 cores).
    datasets: default Fashion-MNIST; tests pass ("digits",). Returns the Markdown report's path.
    """
    return reproduce_per_dataset(KEY, CITE, "the VICReg and SAG-VICReg runs", reproduce_dataset, render_markdown,
                                 quick=quick, runs_dir=runs_dir, datasets=datasets, default=("fashion-mnist",),
                                 out_dir=out_dir, log=log, train_progress=train_progress)  # fmt: skip
