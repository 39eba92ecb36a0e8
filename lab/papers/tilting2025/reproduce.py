"""`python -m lab reproduce tilting2025 [--quick]`: the paper's claims re-measured at the lab's scale.

Baptista, Stuart & Tran 2025, "A Mathematical Perspective On Contrastive Learning" (arXiv 2505.24134),
docs/science.md "Baptista, Stuart & Tran 2025". Trains (or reads from the cache under the runs folder,
lab.papers.tilting2025.results) the 2-D example under each loss and tilt, the low-rank sweeps over n_e,
the batch and the sample size, checks the two identities, runs the image–label demo, and writes
docs/reproduce/tilting2025.md and .json with one verdict per claim (claims.judge_claims).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from lab.papers.reports import command_line, log_claims, provenance, write_report
from lab.papers.tilting2025 import constants as k
from lab.papers.tilting2025.claims import judge_claims
from lab.papers.tilting2025.gaussian import example_pair, optimal_tilt
from lab.papers.tilting2025.identities import clip_vs_conditional, conditional_vs_joint
from lab.papers.tilting2025.imagelabel import ImageLabelConfig
from lab.papers.tilting2025.report import render_markdown
from lab.papers.tilting2025.results import example_configs, image_label, run_sweep, simulation
from lab.papers.tilting2025.simulation import SimulationConfig
from lab.store.runs import RunStore


@dataclass(frozen=True)
class Scale:
    """How much is trained: the full command or --quick [L]."""

    steps: int  # Adam steps of every simulation
    losses: tuple[str, ...]  # the sweeps' lines
    n_e: tuple[int, ...]
    batch: tuple[int, ...]
    sample_size: tuple[int | None, ...]
    clip_batches: int  # batches per tilt in the CLIP identity check
    image_epochs: float
    bias_seeds: tuple[int, ...]  # the batch sweep's two-sided line again with each seed: the bias's spread


FULL = Scale(
    k.STEPS, tuple(k.LOSSES), k.N_E_SWEEP, k.BATCH_SWEEP, k.SAMPLE_SWEEP, 20, k.IMAGE_EPOCHS, (0, 1, 2, 3)
)
QUICK = Scale(
    k.STEPS, ("two-sided", "joint"), (1, 2, 3, 4), (128, 512), (512, None), 10, k.IMAGE_EPOCHS, (0, 1)
)
EXAMPLE_KEEP = ("example", "marginal_u", "marginal_u_closed_form", "marginal_u_true", "errors",
                "closed_form_errors", "spectrum", "seconds")  # fmt: skip


def reproduce_example(root: Path, scale: Scale, log: Callable[[str], None]) -> dict:
    """The 2-D example under each loss and tilt: "<loss>/<tilt>" -> its numbers."""
    out = {}
    for cfg in example_configs(scale.steps):
        r = simulation(cfg, root)
        out[f"{cfg.loss}/{cfg.tilt}"] = {key: r[key] for key in EXAMPLE_KEEP}
        log(f"  2-D example, {cfg.loss} loss, {cfg.tilt} tilt: A = {r['example']['trained']['a']:.4f} ({r['seconds']:.1f} s)")  # fmt: skip
    return out


def reproduce_sweeps(root: Path, scale: Scale, log: Callable[[str], None]) -> dict:
    base = SimulationConfig(steps=scale.steps)
    out = {}
    for axis in ("n_e", "batch", "sample_size"):
        t = time.perf_counter()
        out[axis] = run_sweep(base, axis, root, scale.losses, getattr(scale, axis))
        log(
            f"  sweep over {axis}: {len(out[axis])} points ({time.perf_counter() - t:.0f} s, cached points read)"
        )
    out["batch_bias"] = batch_bias(root, scale, base)
    return out


def batch_bias(root: Path, scale: Scale, base: SimulationConfig) -> list[dict]:
    """Per batch size, the two-sided loss's spectrum deviation from the closed form with each seed of
    scale.bias_seeds, and its mean and standard deviation: one seed's value moves by about as much as
    neighbouring batch sizes differ."""
    per_seed = [
        run_sweep(replace(base, seed=s), "batch", root, ("two-sided",), scale.batch) for s in scale.bias_seeds
    ]
    out = []
    for i, n in enumerate(scale.batch):
        bias = [rows[i]["spectrum_bias"] for rows in per_seed]
        out.append({"value": n, "seeds": list(scale.bias_seeds), "bias": bias, "mean": float(np.mean(bias)),
                    "sd": float(np.std(bias, ddof=1)) if len(bias) > 1 else 0.0})  # fmt: skip
    return out


def reproduce_identities(scale: Scale) -> dict:
    pair = example_pair()
    best = optimal_tilt(pair, 1, "two-sided", "bilinear").a
    clip = [
        clip_vs_conditional(pair, f * best, batches=scale.clip_batches, seed=i)
        for i, f in enumerate((1.0, 0.5))
    ]
    return {"conditional_vs_joint": conditional_vs_joint(), "clip": clip}


def scale_text(scale: Scale, demo: dict) -> str:
    lr = SimulationConfig()
    c = demo["config"]
    return (f"Gaussian simulations: {scale.steps:,} Adam steps (lr {lr.lr:g}, cosine), fresh batches of {lr.batch} "
            f"unless swept; low-rank demo d_u = {lr.d_u}, d_v = {lr.d_v}, shared rank {lr.rank}, noise {lr.noise:g}. "
            f"Image–label: {demo['source']}, {demo['n_train']:,} training images, {c['epochs']:g} epochs, "
            f"MLP {c['hidden']} wide, n_e = {c['n_e']}")  # fmt: skip


def main(quick: bool = False, runs_dir: str | os.PathLike | None = None, datasets: tuple[str, ...] | None = None,
         out_dir: str | os.PathLike | None = None, log: Callable[[str], None] = print,
         train_progress: Callable | None = None, scale: Scale | None = None) -> Path:  # fmt: skip
    """Reproduce Baptista, Stuart & Tran 2025 at the lab's scale; write the .md and .json reports.

    quick: two sweep lines (two-sided, joint) over fewer values. datasets: the image–label demo's
    (default Fashion-MNIST; tests pass ("digits",)). runs_dir: where the results are cached. out_dir:
    default docs/reproduce/. scale: overrides quick (tests). Returns the Markdown report's path.
    """
    start = time.perf_counter()
    scale = scale or (QUICK if quick else FULL)
    root = RunStore(runs_dir).root
    cached_before = len(list((root / k.CACHE_FOLDER).glob("sim-*.json")))
    log("The 2-D example (each loss and tilt)...")
    example = reproduce_example(root, scale, log)
    log("The low-rank sweeps...")
    sweeps = reproduce_sweeps(root, scale, log)
    log("The identities (L_cond ≤ L_joint, CLIP = L_cond + log N)...")
    identities = reproduce_identities(scale)
    dataset = (datasets or ("fashion-mnist",))[0]
    log(f"The image–label demo on {dataset}...")
    demo = image_label(ImageLabelConfig(dataset=dataset, epochs=scale.image_epochs), root)
    report = {
        **provenance(k.CITE, command_line(k.KEY, quick, datasets), quick),
        "scale": scale_text(scale, demo), "settings": asdict(scale),
        "example": example, "sweeps": sweeps, "identities": identities, "image_label": demo,
    }  # fmt: skip
    report["trained_now"] = len(list((root / k.CACHE_FOLDER).glob("sim-*.json"))) - cached_before
    report["claims"] = judge_claims(report)
    report["seconds"] = round(time.perf_counter() - start, 1)
    log_claims(report["claims"], log)
    return write_report(k.KEY, report, render_markdown(report), out_dir, log)
