"""Global structure (M1, M2) of a run or its pixel baseline, cached beside it, and the run table's rows.

Spec 5, docs/science.md, "Global structure (M1, M2)": the lab's stand-ins [L] for SAG-VICReg's
global-semantics score (Simai, Talmon & Shaham 2025). The measures are lab.measures.structure; this
module picks the rows (the test split) and stores the result (lab.store.derived):

  <run>/analysis/v<N>/sag2025-structure-<space>.json    {"m1": {...} or null, "m2": {...}, ...}
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np

from lab.measures.structure import m1_structure, m2_structure
from lab.papers.paper import RunColumn, RunScores
from lab.papers.sag2025.constants import (
    ANALYSIS_VERSION,
    M2_CLUSTERS,
    M2_EIGENVECTORS,
    M2_K,
    M2_POINTS,
    TREE_NOTES,
    TREES,
)
from lab.papers.sag2025.jobs import STRUCTURE
from lab.store.atomic import save_json_atomically
from lab.store.derived import derived_path, load_json


def dataset_of(rep) -> str:
    """The dataset of a run or of a pixel baseline (lab.store.baselines.PixelBaseline)."""
    return rep.config.dataset if hasattr(rep, "config") else rep.dataset


def _path(rep, space: str):
    return derived_path(rep, f"sag2025-structure-{space}.json", ANALYSIS_VERSION)


def stored_structure(rep, space: str = "backbone") -> dict | None:
    """The cached run_structure result, or None when it has not been computed."""
    found = load_json(_path(rep, space))
    return found if isinstance(found, dict) and "m2" in found else None


def m1_undefined(dataset: str) -> str | None:
    """Why M1 is not defined on a dataset (the lab has no superclass tree for it); None where it is."""
    return None if dataset in TREES else f"the lab has no superclass tree for {dataset}, so M1 is not defined"


def run_structure(rep, space: str = "backbone", seed: int = 0) -> dict:
    """M1 against the dataset's superclass tree (None without a tree) and M2 of the test rows; cached.

    Returns {"m1": M1Score as a dict or None, "m2": M2Score as a dict, "tree": what the tree groups,
    "n": test rows, "seconds"}. About a second for 10,000 test rows on 2 cores.
    """
    cached = stored_structure(rep, space)
    if cached is not None:
        return cached
    start = time.perf_counter()
    test = np.asarray(rep.is_test, bool)
    x, y = rep.features(space)[test], np.asarray(rep.labels)[test]
    dataset = dataset_of(rep)
    m1 = m1_structure(x, y, TREES[dataset]) if dataset in TREES else None
    m2 = m2_structure(x, M2_POINTS, M2_K, M2_EIGENVECTORS, M2_CLUSTERS, seed)
    out = {"m1": None if m1 is None else asdict(m1), "m2": asdict(m2), "n": int(test.sum()),
           "tree": TREE_NOTES.get(dataset, m1_undefined(dataset)), "seconds": round(time.perf_counter() - start, 2)}  # fmt: skip
    save_json_atomically(_path(rep, space), out)
    return out


def structure_row(name: str, metrics: dict, structure: dict) -> dict:
    """One row of the run table: a representation's kNN accuracy, M1, M2 and its method's own numbers
    (walk precision of a sag-vicreg run, pair precision of a SePP run) where it has them."""
    m1, own = structure.get("m1") or {}, metrics.get("method", {})
    return {
        "representation": name,
        "kNN accuracy": metrics.get("knn_acc"),
        "M1 Spearman": m1.get("spearman"),
        "M1 Kendall": m1.get("kendall"),
        "M1 AUC": m1.get("auc"),
        "M1 cophenetic": m1.get("cophenetic"),
        "M2 (sanity check)": structure["m2"]["spearman"],
        "walk precision": own.get("walk_precision"),
        "pair precision": own.get("pair_precision"),
    }


def table_scores(rep) -> dict | None:
    """M1's graded score (the cophenetic correlation; None without a superclass tree) and M2 of the backbone,
    as the tables of runs show them beside kNN and linear accuracy; None when run_structure has not run."""
    found = stored_structure(rep, "backbone")
    if found is None:
        return None
    return {"m1": (found.get("m1") or {}).get("cophenetic"), "m2": found["m2"]["spearman"]}


RUN_SCORES = RunScores(
    columns=(
        RunColumn("m1", "M1 global structure [L]", "M1 (label-based): cophenetic correlation of the class centroids' "
                  "average-linkage dendrogram with the superclass tree, on the test split's backbone features. The "
                  "lab's stand-in for SAG-VICReg's global-semantics metric; the Global structure page has all four "
                  "M1 scores (docs/science.md, \"Global structure (M1, M2)\")."),
        RunColumn("m2", "M2 sanity check [L]", "M2 (label-free): rank correlation of k-means centroid distances with a "
                  "diffusion map's. A sanity check only: in the lab's measurements it did not track quality."),
    ),
    stored=table_scores, job_kind=STRUCTURE, title="M1 and M2", undefined=m1_undefined,
    note="M1 and M2 [L] are the lab's stand-ins for the global-semantics metric of Simai, Talmon & Shaham 2025, "
         "on the backbone of the test images (Global structure page); M2 is a sanity check only.",
)  # fmt: skip
