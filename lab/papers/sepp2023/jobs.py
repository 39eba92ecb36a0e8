"""The background job the SePP page starts (registered in the worker through PAPER)."""

from __future__ import annotations

from lab.worker.job import JobKind, JobRequest

SAMPLER_QUALITY = "sepp2023.sampler"


def _sampler_quality(req: JobRequest) -> None:
    from lab.papers.sepp2023.analysis import run_sampler_quality

    req.say("Mining partners with this representation over a grid of k, thresholds and filters...")
    out = run_sampler_quality(req.rep(), req.space)
    req.done(f"Sampler quality ready in {out['seconds']:.1f} s.")


JOB_KINDS = (
    JobKind(
        SAMPLER_QUALITY,
        _sampler_quality,
        "pair precision and coverage of SePP partners mined from a run or its pixels",
    ),
)
