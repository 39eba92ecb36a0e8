"""The simulations' results, cached on disk: <runs>/_tilting2025/sim-<key>.json, one file per setting.

A sweep is the cached results of its points, so a point shared by two sweeps (or by a sweep and the
page's single run) is trained once, and moving back to an earlier slider setting reads a file. The
worker writes (lab.papers.tilting2025.jobs); pages and the reproduce command read. Files go through
lab.store.atomic, so a reader never sees half of one.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from lab.papers.tilting2025 import constants as k
from lab.papers.tilting2025.simulation import SimulationConfig, run_simulation
from lab.store.atomic import save_json_atomically
from lab.store.derived import load_json

SWEEPS = {
    "n_e": ("encoder rank n_e", k.N_E_SWEEP),
    "batch": ("batch size N", k.BATCH_SWEEP),
    "sample_size": ("sample size (∞: streaming)", k.SAMPLE_SWEEP),
}
EXAMPLE_RUNS = tuple((loss, tilt) for tilt in k.TILTS for loss in k.LOSSES)


def cache_path(root: str | os.PathLike, name: str) -> Path:
    return Path(root) / k.CACHE_FOLDER / f"{name}.json"


def stored_simulation(cfg: SimulationConfig, root: str | os.PathLike) -> dict | None:
    """The cached result of cfg, or None (missing or damaged: the job computes it again)."""
    found = load_json(cache_path(root, f"sim-{cfg.key()}"))
    return found if isinstance(found, dict) and found.get("key") == cfg.key() else None


def simulation(cfg: SimulationConfig, root: str | os.PathLike, progress: Callable[[float], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> dict:  # fmt: skip
    """The result of cfg: read from the cache, or trained (run_simulation) and stored."""
    found = stored_simulation(cfg, root)
    if found is None:
        found = run_simulation(cfg, progress, should_stop)
        save_json_atomically(cache_path(root, f"sim-{cfg.key()}"), found)
    return found


# ---------------------------------------------------------------- sweeps: one line per loss
def check_axis(axis: str) -> None:
    if axis not in SWEEPS:
        raise ValueError(f"Unknown sweep '{axis}'. Choose one of: {', '.join(SWEEPS)}.")


def sweep_configs(
    base: SimulationConfig, axis: str, losses=tuple(k.LOSSES), values=None
) -> list[SimulationConfig]:
    """Every point of a sweep: base with each loss and each value of the axis (default: SWEEPS[axis])."""
    check_axis(axis)
    return [dataclasses.replace(base, loss=loss, **{axis: value})
            for loss in losses for value in (values if values is not None else SWEEPS[axis][1])]  # fmt: skip


def sweep_rows(results: list[dict], axis: str) -> list[dict]:
    """One row per point, flat: loss, value, the errors (u|v and v|u) and the closed form's, the angle, the
    spectrum's bias, the seconds."""
    rows = []
    for r in results:
        c, e, best = r["config"], r["errors"], r["closed_form_errors"] or {}
        rows.append({"loss": c["loss"], "value": c[axis], "angle": r["angle"], "a_error": r["a_error"],
                     "spectrum_bias": r["spectrum_bias"], "seconds": r["seconds"], "rank": r["rank"],
                     **{f"{what} {side}": e[side][what] for side in e for what in ("mean", "cov")},
                     **{f"closed-form {what} {side}": best.get(side, {}).get(what)
                        for side in e for what in ("mean", "cov")}})  # fmt: skip
    return rows


def stored_sweep(
    base: SimulationConfig, axis: str, root, losses=tuple(k.LOSSES), values=None
) -> list[dict] | None:
    """The sweep's rows when every point is cached, else None."""
    found = [stored_simulation(cfg, root) for cfg in sweep_configs(base, axis, losses, values)]
    return None if any(r is None for r in found) else sweep_rows(found, axis)


def missing_points(base: SimulationConfig, axis: str, root, losses=tuple(k.LOSSES), values=None) -> list[SimulationConfig]:  # fmt: skip
    return [cfg for cfg in sweep_configs(base, axis, losses, values) if stored_simulation(cfg, root) is None]


def run_sweep(base: SimulationConfig, axis: str, root, losses=tuple(k.LOSSES), values=None,
              progress: Callable[[float, str], None] | None = None, should_stop=None) -> list[dict]:  # fmt: skip
    """Train every missing point of the sweep (the cached ones are read), then its rows."""
    configs = sweep_configs(base, axis, losses, values)
    cost = [(c.effective_batch / k.BATCH) ** 2 * c.steps for c in configs]  # a step costs about N²
    done, total, results = 0.0, sum(cost), []
    for cfg, c in zip(configs, cost, strict=True):
        what = f"{SWEEPS[axis][0]} = {getattr(cfg, axis) or '∞'}, {cfg.loss} loss"

        def report(f: float, what=what, done=done, c=c) -> None:
            if progress is not None:
                progress((done + f * c) / total, f"Sweep over {SWEEPS[axis][0]}: {what}")

        results.append(simulation(cfg, root, report, should_stop))
        report(1.0)  # also for a point read from the cache
        done += c
    return sweep_rows(results, axis)


# ---------------------------------------------------------------- the 2-D example
def example_configs(steps: int = k.STEPS) -> list[SimulationConfig]:
    """The 2-D example under each loss and tilt, at the spec's training settings [D]."""
    return [
        SimulationConfig(problem="example", loss=loss, tilt=tilt, steps=steps) for loss, tilt in EXAMPLE_RUNS
    ]


def stored_example(root, steps: int = k.STEPS) -> dict[tuple[str, str], dict]:
    """(loss, tilt) -> the cached result, for those already trained."""
    found = {(c.loss, c.tilt): stored_simulation(c, root) for c in example_configs(steps)}
    return {key: r for key, r in found.items() if r is not None}


# ---------------------------------------------------------------- the image–label demo
def stored_image_label(cfg, root) -> dict | None:
    """The cached image–label demo of cfg (an imagelabel.ImageLabelConfig), or None."""
    found = load_json(cache_path(root, f"imagelabel-{cfg.key()}"))
    return found if isinstance(found, dict) and found.get("key") == cfg.key() else None


def image_label(cfg, root, progress: Callable[[float, str], None] | None = None) -> dict:
    """The image–label demo of cfg: read from the cache, or trained (imagelabel.run_image_label) and stored."""
    from lab.papers.tilting2025.imagelabel import run_image_label

    found = stored_image_label(cfg, root)
    if found is None:
        found = run_image_label(cfg, progress)
        save_json_atomically(cache_path(root, f"imagelabel-{cfg.key()}"), found)
    return found


def example_conditionals(stored: dict[tuple[str, str], dict]) -> list[dict]:
    """For the 2-D example's picture: per (loss, tilt), the model's u|v = N(slope · v, var) in closed form
    [D] and as trained (None until stored), beside the truth. stored: stored_example(root)."""
    from lab.papers.tilting2025.gaussian import (
        example_pair,
        model_conditional,
        optimal_tilt,
        true_conditional,
    )

    pair, out = example_pair(), []
    truth = true_conditional(pair, "u|v")
    for loss, tilt in EXAMPLE_RUNS:
        best = model_conditional(pair, optimal_tilt(pair, 1, loss, tilt), "u|v")
        trained = stored.get((loss, tilt), {}).get("example", {}).get("trained")
        out.append({"loss": loss, "tilt": tilt, "true_slope": float(truth.mean[0, 0]), "true_var": float(truth.cov[0, 0]),
                    "closed_slope": None if best is None else float(best.mean[0, 0]),
                    "closed_var": None if best is None else float(best.cov[0, 0]),
                    "trained_slope": trained and trained["slope"], "trained_var": trained and trained["var"]})  # fmt: skip
    return out
