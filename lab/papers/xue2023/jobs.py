"""The background job of Xue et al. 2023's pages (registered in the worker through PAPER): a label set's
probe over a run's snapshots. (The per-label-set probes of a run are the lab's own job, "label-probes".)"""

from __future__ import annotations

from lab.worker.job import JobKind, JobRequest

CURVE = "xue2023.curve"


def _curve(req: JobRequest) -> None:
    from lab.papers.xue2023.probes import subclass_curve

    subclass_curve(req.run, req.params.get("labels", "fine"), progress=req.fraction)
    req.done("Curve ready.")


JOB_KINDS = (JobKind(CURVE, _curve, "a label set's probe on each snapshot of a run (the subclass curve)"),)
