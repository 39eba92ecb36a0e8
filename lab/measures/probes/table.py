"""The probe table: linear, kNN and GCN probes per label budget on shared splits, with intervals.

Zhang, Lu & Xuan 2023 probes [P]; table layout, budgets and intervals [L]; docs/science.md, "Probes".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lab.measures.probes.common import bootstrap_interval, check_split, label_budget
from lab.measures.probes.gcn import gcn_probe, rld_graph
from lab.measures.probes.knn import KNN_K, knn_probe
from lab.measures.probes.linear import linear_probe


@dataclass(frozen=True)
class ProbeInfo:
    label: str  # for tables: what it is, with its tag
    short: str  # for chart axes
    tag: str  # [P] the paper's probe, [L] the lab's


PROBES = {
    "linear": ProbeInfo("Linear [P]", "linear", "[P]"),
    "knn": ProbeInfo(f"kNN, k = {KNN_K} [L]", "kNN", "[L]"),
    "gcn-labels": ProbeInfo("GCN, label inputs [P]", "GCN (labels)", "[P]"),
    "gcn-features": ProbeInfo("GCN, feature inputs [L]", "GCN (features)", "[L]"),
}
BUDGETS = (0.01, 0.1, 1.0)  # label budgets of the probe table [L]
GCN_TAU = 0.2  # the paper's GCN graph uses 0.2 or 0.1 [P]
GCN_STEPS = 60


def check_probe_names(names) -> None:
    unknown = [p for p in names if p not in PROBES]
    if unknown:
        raise ValueError(f"Unknown probe {unknown[0]!r}. Choose from: {', '.join(PROBES)}.")


def budget_problem(train_y: np.ndarray, budget: float, seed: int = 0) -> str | None:
    """Why a label budget cannot be probed (fewer than 2 known labels in some class), or None."""
    try:
        known = label_budget(train_y, budget, seed)
    except ValueError as exc:
        return str(exc)
    counts = np.unique(train_y[known], return_counts=True)[1]
    if counts.min() < 2 or len(counts) < len(np.unique(train_y)):
        return (f"budget {budget} leaves a class with {counts.min()} label(s); the probes need at least 2 per "
                "class (one to fit, one held out). Use more training images.")  # fmt: skip
    return None


def probe_table(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    budgets: tuple[float, ...] = BUDGETS,
    probes: tuple[str, ...] = ("linear", "knn", "gcn-labels"),
    tau: float = GCN_TAU,
    seed: int = 0,
    steps: int = GCN_STEPS,
    name: str = "features",
    graph: torch.Tensor | None = None,
    progress: Callable[[float, str], None] | None = None,
    neighbors: np.ndarray | None = None,
) -> list[dict]:
    """Linear / kNN / GCN probes for each label budget on the same splits, with 95 % bootstrap CIs.

    Zhang, Lu & Xuan 2023 probes [P]; table layout, budgets and intervals [L]. The RLD graph over
    train + test is built once (or passed as `graph`, e.g. sparsified with a stored kNN table); at
    each budget every probe sees the same known train labels. A budget with fewer than 2 labels per
    class gives rows with accuracy None and a "note" instead of failing the table.
    x: [N, d]; y: [N]. progress(fraction, message) before each probe. neighbors: [N, >=50] kNN rows of
    train + test (a run's stored table) for the GCN's reach check.
    Returns one dict per (budget, probe): features, probe, budget, n_labels, accuracy, ci_low,
    ci_high, the choices made without test labels, and seconds.
    """
    train_x, test_x = check_split(train_x, train_y, test_x, test_y)
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    check_probe_names(probes)
    say = progress or (lambda _f, _m: None)
    if graph is None and any(p.startswith("gcn") for p in probes):
        say(0.0, f"Building the RLD graph over {len(train_x) + len(test_x):,} images (τ={tau:g})...")
        graph = rld_graph(np.concatenate([train_x, test_x]), tau, seed=seed)
    rows, total = [], len(budgets) * len(probes)
    for b, budget in enumerate(budgets):
        problem = budget_problem(train_y, budget, seed)
        if problem is not None:
            rows += [{"features": name, "probe": p, "budget": budget, "n_labels": round(budget * len(train_y)),
                      "accuracy": None, "ci_low": None, "ci_high": None, "note": problem} for p in probes]  # fmt: skip
            continue
        known = label_budget(train_y, budget, seed)
        for i, p in enumerate(probes):
            say(
                (b * len(probes) + i) / total,
                f"{name}: {p} probe with {len(known):,} labels ({budget:.0%})...",
            )
            start = time.perf_counter()
            try:
                if p == "linear":
                    r = linear_probe(train_x[known], train_y[known], test_x, test_y, seed=seed)
                elif p == "knn":
                    r = knn_probe(train_x[known], train_y[known], test_x, test_y, k=min(KNN_K, len(known)))
                else:
                    r = gcn_probe(train_x, train_y, test_x, test_y, p[4:], tau, budget, seed, steps, graph=graph,
                                  neighbors=neighbors)  # fmt: skip
            except ValueError as exc:  # a probe that cannot work at this budget says why (the GCN's reach)
                rows.append({"features": name, "probe": p, "budget": budget, "n_labels": len(known), "accuracy": None,
                             "ci_low": None, "ci_high": None, "note": str(exc)})  # fmt: skip
                continue
            lo, hi = bootstrap_interval(r.predictions == test_y, seed=seed)
            rows.append({"features": name, "probe": p, "budget": budget, "n_labels": len(known),
                         "accuracy": r.accuracy, "ci_low": lo, "ci_high": hi, **r.chosen,
                         "seconds": round(time.perf_counter() - start, 2)})  # fmt: skip
    say(1.0, "Probes done.")
    return rows
