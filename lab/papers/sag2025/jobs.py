"""The background jobs the sag2025 pages start (registered in the worker through PAPER).

Each computes one cached result of a run, or of its pixel baseline (params["rep"] = "pixels"), in the
worker process, so that the page only reads stored results.
"""

from __future__ import annotations

from lab.worker.job import JobKind, JobRequest

STRUCTURE, TABLE = "sag2025.structure", "sag2025.table"


def _structure(req: JobRequest) -> None:
    from lab.papers.sag2025.analysis import run_structure

    req.say("Global structure: M1 against the superclass tree, M2 on a diffusion map...")
    out = run_structure(req.rep(), req.space)
    req.done(f"M1 and M2 ready in {out['seconds']:.1f} s.")


def _table(req: JobRequest) -> None:
    from lab.store.neighbours import neighbour_table

    req.say("Exact kNN table for the neighbourhood graph...")
    neighbour_table(req.rep(), req.space)
    req.done("kNN table ready.")


JOB_KINDS = (
    JobKind(
        STRUCTURE, _structure, "global structure M1 (label-based) and M2 (label-free) of a run or its pixels"
    ),
    JobKind(TABLE, _table, "the exact kNN table of a run or its pixel baseline, for the kNN-graph page"),
)
