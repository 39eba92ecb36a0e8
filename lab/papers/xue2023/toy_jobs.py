"""The background jobs of the linear-toy page (pages/xue2023_toys.py), registered in the worker through
PAPER.job_kinds (TOY_JOB_KINDS).

A toy job works on settings, not on a run: the page passes TOYS where other jobs pass a run (its id is
only the first part of the job's key, lab.worker.manager.job_key), the settings travel in params, and
the result lands in the runs folder's cache (lab.papers.xue2023.toys). Light at import: the toys are
imported inside the work functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.worker.job import JobKind, JobRequest

TOY_CC, TOY_FS = "xue2023.toy-cc", "xue2023.toy-fs"


@dataclass(frozen=True)
class ToySettings:
    """What a toy job names in place of a run (pages.ui.progress.ensure_result takes a run)."""

    id: str = "xue2023-toys"


TOYS = ToySettings()


def _cc(req: JobRequest) -> None:
    from lab.papers.xue2023.toys import CCConfig, cc_result

    cfg = CCConfig(**req.params)
    what = f"CC toy: UCL, SCL and joint (α = {cfg.alpha:g}) at b = {cfg.b:g}, {cfg.steps:,} steps"
    req.say(what + "...")
    r = cc_result(cfg, req.store.root, lambda f: req.fraction(f, what), req.should_stop)
    req.done(f"CC toy trained in {r.seconds:.1f} s.")


def _fs(req: JobRequest) -> None:
    from lab.papers.xue2023.toys_fs import FSConfig, fs_result

    cfg = FSConfig(**req.params)
    what = f"FS toy: {cfg.label} against {cfg.axis}, k_e = {cfg.k_e}, n = {cfg.n:,}"
    req.say(what + "...")
    r = fs_result(cfg, req.store.root, lambda f: req.fraction(f, what), req.should_stop)
    req.done(f"FS line trained in {r.seconds:.1f} s.")


TOY_JOB_KINDS = (
    JobKind(TOY_CC, _cc, "the class-collapse toy: subclass probe over GD steps for UCL, SCL and joint"),
    JobKind(TOY_FS, _fs, "a line of the feature-suppression toy: relevant probe against p or against q"),
)
