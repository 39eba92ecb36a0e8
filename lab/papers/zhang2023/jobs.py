"""The background jobs the Density and Probes pages start (registered in the worker through PAPER).

Each computes one cached analysis of a run, or of its pixel baseline (params["rep"] = "pixels"),
in the worker process, so that the page only reads stored results (lab.papers.zhang2023.analysis).
"""

from __future__ import annotations

from lab.worker.job import JobKind, JobRequest

RLD, DENSITY, PROBES = "zhang2023.rld", "zhang2023.density", "zhang2023.probes"


def _rld(req: JobRequest) -> None:
    from lab.papers.zhang2023.analysis import run_rld

    tau = float(req.params["tau"])
    run_rld(req.rep(), req.space, tau, progress=req.fraction)
    req.done(f"RLD at τ={tau:g} ready.")


def _density(req: JobRequest) -> None:
    from lab.papers.zhang2023.analysis import run_chs, run_purity_curve

    req.say("Calinski-Harabasz score of the training images...")
    rep = req.rep()
    run_chs(rep, req.space)
    req.say("Class purity of neighbourhoods (faiss, one search at the largest p)...")
    run_purity_curve(rep, req.space)
    req.done("CHS and purity ready.")


def _probes(req: JobRequest) -> None:
    from lab.papers.zhang2023.probes import run_probe_table

    run_probe_table(req.rep(), req.space, progress=req.fraction)
    req.done("Probes ready.")


JOB_KINDS = (
    JobKind(RLD, _rld, "Relative Local Density of a run's training images at one τ"),
    JobKind(DENSITY, _density, "Calinski-Harabasz score and the class-purity curve of a run"),
    JobKind(PROBES, _probes, "linear, kNN and GCN probes of a run per label budget"),
)
