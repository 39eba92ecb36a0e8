"""Where a SePP run's partners come from: the sampler's features of the un-augmented training images,
mined once before training (lab.papers.sepp2023.partners).

Samplers [L] (spec 1, docs/science.md, "SePP"): PCA-64 of the pixels, an untrained encoder, the stored
SimCLR or VICReg run with the run's other settings or any stored run of the dataset named by its id (its
backbone features), and two bounds, oracle (same-class partners, uses labels) and random.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import torch

from lab.papers.sepp2023.constants import LEARNED_SAMPLERS, RUN_SAMPLER
from lab.papers.sepp2023.partners import (
    Partners,
    mine_partners,
    oracle_partners,
    pair_precision,
    random_partners,
)


def sampler_config(cfg):
    """The config of a learned sampler's run: this one with method = the sampler (its own parameters at
    their defaults, the rest unchanged, so the same images, epochs and batch)."""
    return cfg.replace(method=cfg.param("sepp_sampler"))


def check_same_dataset(run, dataset: str) -> None:
    """ValueError naming the sampler run when it was trained on another dataset than `dataset`."""
    if run.config.dataset != dataset:
        raise ValueError(f"The sampler run {run.id} was trained on {run.config.dataset}, but this run trains on "
                         f"{dataset}: partners must be found among this run's own training images. Pick a "
                         f"sampler run of {dataset}, or the pixels or an untrained encoder.")  # fmt: skip


def run_sampler_features(run, dataset, device: torch.device) -> np.ndarray:
    """Backbone features [n_train, F] of the training images of `dataset` under a stored run: its stored
    rows when it embedded the same training images, else embedded with its weights. ValueError when the
    run was trained on another dataset (its features would describe other images)."""
    check_same_dataset(run, dataset.name)
    train = ~np.asarray(run.is_test)
    index = (
        dataset.train_index.numpy()
        if dataset.train_index is not None
        else np.arange(len(dataset.train_labels))
    )
    if train.sum() == len(index) and np.array_equal(run.index[train], index):
        return run.features("backbone")[train]
    from lab.core.models import embed

    return embed(run.load_model(), dataset.train_images, device)[0].numpy()


def stored_sampler_run(cfg):
    """The stored run a learned sampler names (RunStore(): $LAB_RUNS_DIR or ./runs): the run of
    sepp_sampler_run for the 'run' sampler, else the run of sampler_config. ValueError when it is not
    stored, saying how to train it or where the stored runs are listed."""
    from lab.store.runs import RunStore, run_id

    store = RunStore()
    if cfg.param("sepp_sampler") == RUN_SAMPLER:
        rid = cfg.param("sepp_sampler_run")
        if not (store.root / rid).is_dir():
            raise ValueError(f"The sampler run {rid} is not stored in {store.root}. `python -m lab runs` lists the "
                             f"stored runs (the Train page offers those of {cfg.dataset}): name one trained on "
                             f"{cfg.dataset}, or pick the pixels sampler.")  # fmt: skip
        run = store.load(rid)
        check_same_dataset(run, cfg.dataset)
        return run
    scfg = sampler_config(cfg)
    rid = run_id(scfg)
    if not (store.root / rid).is_dir():
        flags = f"--method {scfg.method} --dataset {scfg.dataset}" + (
            f" --subset {scfg.subset}" if scfg.subset else ""
        )
        raise ValueError(f"SePP's sampler '{scfg.method}' is the stored {scfg.method} run with this run's other "
                         f"settings (run {rid}), and {store.root} does not hold it. Train it first "
                         f"(`python -m lab train {flags} --epochs {scfg.epochs:g} --batch-size {scfg.batch_size} "
                         f"--seed {scfg.seed}`, or on the Train page), or pick the pixels sampler.")  # fmt: skip
    return store.load(rid)


def sampler_features(cfg, dataset, device: torch.device) -> tuple[np.ndarray, str | None]:
    """(features [n_train, d] of the training images, the sampler run's id or None) for a mined sampler."""
    kind = cfg.param("sepp_sampler")
    if kind == "pixels":
        from lab.store.baselines import pixel_features

        return pixel_features(cfg.dataset, cfg.subset, cfg.seed)[: len(dataset.train_labels)], None
    if kind == "untrained":
        from lab.core.models import embed
        from lab.core.train import build_model

        with torch.random.fork_rng(devices=[]):  # the training run's own random stream is left as it was
            torch.manual_seed(cfg.seed + 1)
            model = build_model(cfg, dataset)
        return embed(model, dataset.train_images, device)[0].numpy(), None
    if kind in (*LEARNED_SAMPLERS, RUN_SAMPLER):
        run = stored_sampler_run(cfg)
        return run_sampler_features(run, dataset, device), run.id
    raise ValueError(f"'{kind}' is not a mined sampler.")


def mining_threads() -> int | None:
    """faiss threads for the partner search: 1 while the cores are busy (1-minute load average at least
    the number of cores), else one per core (None). faiss's OpenMP threads wait for each other by spinning,
    so two threads on two cores shared with other work mined 2.5-3x slower than one; on an idle machine two
    are faster. The partners are the same either way (bench-paper sepp2023 checks), so a run's partners do
    not depend on the load."""
    return 1 if os.getloadavg()[0] >= (os.cpu_count() or 1) else None


@dataclass(frozen=True)
class Mined:
    """A run's partners with what it records about them."""

    partners: Partners
    record: (
        dict  # sampler, sampler_run, pair_precision, coverage, mean_partners, mining_seconds, pairs_sample
    )


def partners_for(cfg, dataset, device: torch.device, sample: int = 64) -> Mined:
    """The partners of a SePP config's training images, and the numbers every run records about them
    (pair precision uses the labels for display only; the oracle bound alone trains on them)."""
    start = time.perf_counter()
    kind, k, labels = cfg.param("sepp_sampler"), cfg.param("sepp_k"), dataset.train_labels.numpy()
    sampler_run, features_s = None, 0.0
    if kind == "oracle":
        partners = oracle_partners(labels, k, cfg.seed)
    elif kind == "random":
        partners = random_partners(len(labels), k, cfg.seed)
    else:
        x, sampler_run = sampler_features(cfg, dataset, device)
        features_s = time.perf_counter() - start
        partners = mine_partners(
            x, k, cfg.param("sepp_quantile"), cfg.param("sepp_mutual") == "on", threads=mining_threads()
        )
    has = np.flatnonzero(partners.counts > 0)
    show = has[np.linspace(0, len(has) - 1, min(sample, len(has))).astype(int)] if len(has) else has
    record = {
        "sampler": kind, "sampler_run": sampler_run, "pair_precision": pair_precision(partners, labels),
        "coverage": partners.coverage, "mean_partners": partners.mean_partners, "threshold": partners.threshold,
        "features_seconds": round(features_s, 2), "mining_seconds": round(time.perf_counter() - start - features_s, 2),
        "pairs_sample": [[int(i), int(partners.idx[i, 0])] for i in show],
    }  # fmt: skip
    return Mined(partners, record)
