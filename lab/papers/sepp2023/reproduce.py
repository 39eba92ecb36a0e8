"""`python -m lab reproduce sepp2023 [--quick]`: SePP-SimCLR against SimCLR at the lab's scale.

Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122); docs/science.md, "SePP". Trains (or reuses) SimCLR,
then SePP-SimCLR with partners mined by that SimCLR run, by PCA-64 pixels, and the two bounds (oracle
same-class partners and random partners), all with the same settings; reads each run's accuracies and
recorded pair numbers, and writes docs/reproduce/sepp2023.md and .json with one verdict per claim by the
rules of claims.judge_claims.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from lab.core.config import TrainConfig, protocol_config
from lab.papers.reports import reproduce_per_dataset
from lab.papers.sepp2023.claims import judge_claims
from lab.papers.sepp2023.constants import CITE, KEY
from lab.papers.sepp2023.report import render_markdown
from lab.store.baselines import PIXELS_NAME
from lab.store.runs import RunStore, default_root_at

# the runs compared: name -> (method, sampler)
RUNS = {"simclr": ("simclr", None), "sepp-learned": ("sepp-simclr", "simclr"),
        "sepp-pixels": ("sepp-simclr", "pixels"), "sepp-oracle": ("sepp-simclr", "oracle"),
        "sepp-random": ("sepp-simclr", "random")}  # fmt: skip


@dataclass(frozen=True)
class Scale:
    """How much is trained: the full command or --quick [L]."""

    subset: int | None
    epochs: float | None


FULL = Scale(subset=None, epochs=None)
QUICK = Scale(subset=10_000, epochs=2.0)


def reproduce_configs(dataset: str, quick: bool = False) -> dict[str, TrainConfig]:
    """SimCLR and the four SePP-SimCLR runs, the protocol recipe (lab.core.config.PROTOCOL_RECIPE)
    otherwise. The simclr sampler is the first run itself (lab.papers.sepp2023.samplers.sampler_config)."""
    scale = QUICK if quick else FULL
    return {name: protocol_config(dataset=dataset, method=method, subset=scale.subset, epochs=scale.epochs,
                              **({"sepp_sampler": sampler} if sampler else {}))
            for name, (method, sampler) in RUNS.items()}  # fmt: skip


def measure(run) -> dict:
    m, own = run.metrics, run.metrics.get("method", {})
    return {"id": run.id, "knn_acc": m["knn_acc"], "linear_acc": m["linear_acc"], "n_classes": int(run.labels.max()) + 1,
            "train_seconds": m.get("train_seconds"), "device": m.get("device"), "epochs": run.config.epochs,
            **{k: own.get(k) for k in ("sampler", "sampler_run", "pair_precision", "coverage", "mean_partners",
                                        "features_seconds", "mining_seconds")}}  # fmt: skip


def reproduce_dataset(dataset: str, quick: bool, store: RunStore, log: Callable[[str], None] = print,
                      train_progress=None) -> dict:  # fmt: skip
    runs = {}
    with default_root_at(store.root):  # SePP's learned sampler is looked up there
        for name, cfg in reproduce_configs(dataset, quick).items():
            t = time.perf_counter()
            run, stored = store.get_or_train(cfg, progress=train_progress)
            log(
                f"  {name}: {'reused' if stored else 'trained'} run {run.id} ({time.perf_counter() - t:.0f} s)"
            )
            runs[name] = run
    measures = {name: measure(r) for name, r in runs.items()}
    px = runs["simclr"].metrics["pixels"]
    measures["pixels"] = {"name": PIXELS_NAME, "knn_acc": px["knn_acc"], "linear_acc": px["linear_acc"]}
    first = runs["simclr"]
    return {
        "dataset": dataset,
        "scale": asdict(QUICK if quick else FULL),
        "n_train": int((~first.is_test).sum()),
        "n_test": int(first.is_test.sum()),
        "encoder": f"{first.config.encoder}-{first.config.width}, p = {first.config.embedding_size}",
        "partners": {k: runs["sepp-learned"].config.param(k) for k in ("sepp_k", "sepp_quantile", "sepp_mutual",
                                                                       "sepp_mode", "sepp_beta")},
        "measures": measures,
        "claims": judge_claims(measures),
    }  # fmt: skip


def main(quick: bool = False, runs_dir: str | os.PathLike | None = None, datasets: tuple[str, ...] | None = None,
         out_dir: str | os.PathLike | None = None, log: Callable[[str], None] = print,
         train_progress: Callable | None = None) -> Path:  # fmt: skip
    """Reproduce Alkhalefi, Leontidis & Zhong 2023 at the lab's scale; write the .md and .json reports.

    quick: a 10,000-image subset, 2 epochs (a few minutes of training on 2 cores for the five runs).
    datasets: default Fashion-MNIST; tests pass ("digits",). Returns the Markdown report's path.
    """
    return reproduce_per_dataset(KEY, CITE, "SimCLR and four SePP-SimCLR runs", reproduce_dataset, render_markdown,
                                 quick=quick, runs_dir=runs_dir, datasets=datasets, default=("fashion-mnist",),
                                 out_dir=out_dir, log=log, train_progress=train_progress)  # fmt: skip
