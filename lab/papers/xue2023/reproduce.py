"""`python -m lab reproduce xue2023 [--quick]`: class collapse and feature suppression at the lab's scale.

Xue, Joshi, Gan, Chen & Mirzasoleiman 2023 (arXiv 2305.16536); docs/science.md, "Xue 2023". Two image
protocols [L, adapted from the paper's CIFAR-100 and MNIST-on-CIFAR]:

- collapse: SupCon, the joint loss, SimCLR and cross-entropy on fashion-mnist-coarse (5 coarse classes
  of 2 fine ones), each recording snapshots; the fine-label probe at the end and over training;
- suppression: SimCLR and the joint loss on digit-on-fashion-mnist at a small and a large embedding
  size p, SimCLR also with q = 1 (view 2 gets another digit); the garment (relevant) and digit
  (irrelevant) probes.

Runs are reused from the run store. Writes docs/reproduce/xue2023.md and .json with a verdict per claim
by the rules of claims.judge_claims.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from lab.core.config import TrainConfig, protocol_config
from lab.papers.reports import command_line, provenance, write_report
from lab.papers.xue2023.claims import judge_claims
from lab.papers.xue2023.constants import CITE, KEY, SNAPSHOTS
from lab.papers.xue2023.probes import subclass_curve
from lab.papers.xue2023.report import render_markdown
from lab.store.baselines import pixel_baseline_of
from lab.store.label_probes import label_probes
from lab.store.runs import RunStore

COLLAPSE_DATASET, SUPPRESSION_DATASET = "fashion-mnist-coarse", "digit-on-fashion-mnist"
COLLAPSE_METHODS = ("supcon", "joint", "simclr", "supervised")


@dataclass(frozen=True)
class Scale:
    """How much is trained [L]: the full command, --quick, or a test's."""

    subset: int | None
    epochs: float | None
    sizes: tuple[int, ...]  # embedding sizes p of the suppression protocol, smallest first


FULL = Scale(subset=None, epochs=None, sizes=(2, 8, 32, 128))
QUICK = Scale(subset=10_000, epochs=2.0, sizes=(2, 128))


def collapse_configs(scale: Scale) -> dict[str, TrainConfig]:
    return {m: protocol_config(dataset=COLLAPSE_DATASET, method=m, subset=scale.subset, snapshots=SNAPSHOTS, epochs=scale.epochs)
            for m in COLLAPSE_METHODS}  # fmt: skip


def suppression_configs(scale: Scale) -> dict[str, TrainConfig]:
    """name -> config: "<method>-q<q>-p<p>"."""
    grid = [("simclr", 0.0), ("joint", 0.0), ("simclr", 1.0)]
    return {f"{m}-q{q:g}-p{p}": protocol_config(dataset=SUPPRESSION_DATASET, method=m, subset=scale.subset,
                                            embedding_size=p, q=q, epochs=scale.epochs)
            for m, q in grid for p in scale.sizes}  # fmt: skip


def _train(configs: dict, store: RunStore, log, train_progress) -> dict:
    runs = {}
    for name, cfg in configs.items():
        t = time.perf_counter()
        run, stored = store.get_or_train(cfg, progress=train_progress)
        log(f"  {name}: {'reused' if stored else 'trained'} run {run.id} ({time.perf_counter() - t:.0f} s)")
        runs[name] = run
    return runs


def _probes(run, pixels=None) -> dict:
    rows = label_probes(run, pixels)
    out = {"id": run.id, "method": run.config.method, "p": run.config.embedding_size,
           "train_seconds": run.metrics.get("train_seconds"), "device": run.metrics.get("device")}  # fmt: skip
    for r in rows:
        if r["space"] in ("backbone", "projector"):
            out[f"{r['labels']}_{'h' if r['space'] == 'backbone' else 'z'}"] = r["linear"]
    if pixels is not None:
        out["pixels"] = {r["labels"]: r["linear"] for r in rows if r["space"] == "pixels"}
    return out


def measure_collapse(runs: dict, log) -> dict:
    out = {}
    for name, run in runs.items():
        m = _probes(run, pixel_baseline_of(run) if name == "simclr" else None)
        curve = subclass_curve(run, "fine")
        m["curve"] = {k: curve[k] for k in ("steps", "accuracy", "max", "final", "collapse_drop")}
        log(f"  {name}: fine {m['fine_h']:.3f} (h), collapse drop {curve['collapse_drop']:+.3f}")
        out[name] = m
    return out


def measure_suppression(runs: dict, log) -> dict:
    out = {}
    for name, run in runs.items():
        m = _probes(run, pixel_baseline_of(run) if name == next(iter(runs)) else None)
        m["q"] = run.config.param("q")
        log(f"  {name}: garment {m['class_h']:.3f}, digit {m['digit_h']:.3f} (h)")
        out[name] = m
    return out


def main(quick: bool = False, runs_dir: str | os.PathLike | None = None, datasets: tuple[str, ...] | None = None,
         out_dir: str | os.PathLike | None = None, log: Callable[[str], None] = print,
         train_progress: Callable | None = None, scale: Scale | None = None, toys: bool = True) -> Path:  # fmt: skip
    """Reproduce Xue et al. 2023 at the lab's scale; write the .md and .json reports.

    quick: a 10,000-image subset, 2 epochs, p in {2, 128} (ten runs: a few minutes on 2 cores).
    datasets: this paper's protocols fix their datasets; anything else given is refused.
    scale: overrides quick (tests). toys: also run the linear toys (seconds). Returns the .md path.
    """
    if datasets and set(datasets) - {COLLAPSE_DATASET, SUPPRESSION_DATASET}:
        raise ValueError(f"Xue et al.'s protocols train on {COLLAPSE_DATASET} and {SUPPRESSION_DATASET}; "
                         "run the reproduction without --dataset.")  # fmt: skip
    scale = scale or (QUICK if quick else FULL)
    start = time.perf_counter()
    store = RunStore(runs_dir)
    log(f"Class collapse on {COLLAPSE_DATASET}: {', '.join(COLLAPSE_METHODS)}, {SNAPSHOTS} snapshots each...")
    collapse = measure_collapse(_train(collapse_configs(scale), store, log, train_progress), log)
    log(f"Feature suppression on {SUPPRESSION_DATASET}: p in {scale.sizes}...")
    suppression = measure_suppression(_train(suppression_configs(scale), store, log, train_progress), log)
    toy = None
    if toys:
        from lab.papers.xue2023.toy_claims import measure_toys

        log("The linear toys (full-batch GD)...")
        toy = measure_toys(log)
    first = store.find(collapse_configs(scale)["simclr"])
    report = {
        **provenance(CITE, command_line(KEY, quick), quick),
        "setting": asdict(scale) | {"n_train": int((~first.is_test).sum()), "n_test": int(first.is_test.sum()),
                                    "encoder": f"{first.config.encoder}-{first.config.width}",
                                    "epochs": first.config.epochs, "snapshots": SNAPSHOTS,
                                    "data_source": first.info.get("data_source")},
        "collapse": collapse,
        "suppression": suppression,
        "toys": toy,
    }  # fmt: skip
    st = report["setting"]
    report["scale"] = (f"{st['n_train']:,} training and {st['n_test']:,} test images per run, encoder {st['encoder']}, "
                       f"{st['epochs']:g} epochs, p in {', '.join(map(str, scale.sizes))}; linear toys")  # fmt: skip
    report["claims"] = judge_claims(report)
    for c in report["claims"]:
        log(f"  {c['verdict']:>17}: {c['id']} {c['claim']}")
    report["seconds"] = round(time.perf_counter() - start, 1)
    return write_report(KEY, report, render_markdown(report), out_dir, log)
