"""The background jobs the tilting2025 pages start (registered in the worker through PAPER).

These jobs work on settings, not on a run: a page passes SETTINGS where other papers pass a run, whose
only use is the first part of the job's key (lab.worker.manager.job_key); the settings travel in
params, and the results land in the runs folder's cache (lab.papers.tilting2025.results).
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.papers.tilting2025.constants import CACHE_FOLDER
from lab.worker.job import JobKind, JobRequest

SIMULATION, SWEEP, EXAMPLE, IMAGE_LABEL = (
    "tilting2025.simulation",
    "tilting2025.sweep",
    "tilting2025.example",
    "tilting2025.imagelabel",
)


@dataclass(frozen=True)
class Settings:
    """What a job of this paper names in place of a run (pages.ui.progress.ensure_result takes a run)."""

    id: str = CACHE_FOLDER


SETTINGS = Settings()


def _simulation(req: JobRequest) -> None:
    from lab.papers.tilting2025.results import simulation
    from lab.papers.tilting2025.simulation import SimulationConfig

    cfg = SimulationConfig(**req.params)
    req.say(f"Training linear encoders with the {cfg.loss} loss ({cfg.steps:,} steps)...")
    r = simulation(cfg, req.store.root, lambda f: req.fraction(f, f"Training with the {cfg.loss} loss"),
                   req.should_stop)  # fmt: skip
    req.done(f"Trained in {r['seconds']:.1f} s.")


def _sweep(req: JobRequest) -> None:
    from lab.papers.tilting2025.results import run_sweep
    from lab.papers.tilting2025.simulation import SimulationConfig

    params = dict(req.params)
    axis = params.pop("axis")
    run_sweep(
        SimulationConfig(**params), axis, req.store.root, progress=req.fraction, should_stop=req.should_stop
    )
    req.done("Sweep ready.")


def _example(req: JobRequest) -> None:
    from lab.papers.tilting2025.results import example_configs, simulation

    configs = example_configs()
    for i, cfg in enumerate(configs):
        what = f"The 2-D example: {cfg.loss} loss, {cfg.tilt} tilt ({i + 1} of {len(configs)})"
        simulation(cfg, req.store.root, lambda f, i=i, what=what: req.fraction((i + f) / len(configs), what),
                   req.should_stop)  # fmt: skip
    req.done("The 2-D example is ready.")


def _image_label(req: JobRequest) -> None:
    from lab.papers.tilting2025.imagelabel import ImageLabelConfig
    from lab.papers.tilting2025.results import image_label

    req.say("Loading the dataset...")
    image_label(ImageLabelConfig(**req.params), req.store.root, req.fraction)
    req.done("The image–label demo is ready.")


JOB_KINDS = (
    JobKind(SIMULATION, _simulation, "linear encoders trained on Gaussian pairs with one loss and tilt"),
    JobKind(
        SWEEP, _sweep, "a sweep of the simulation over n_e, the batch or the sample size, one line per loss"
    ),
    JobKind(EXAMPLE, _example, "the 2-D example under each loss and tilt"),
    JobKind(IMAGE_LABEL, _image_label, "the image–label demo: three losses on a small encoder"),
)
