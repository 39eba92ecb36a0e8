"""The probe table of a run (or the pixel baseline): linear, kNN and GCN probes per label budget,
cached beside the run as

  <run>/analysis/v<N>/probes-<space>-tau<t>-steps<k>-s<seed>-<probes>.json

Zhang, Lu & Xuan 2023 probes [P] (lab.measures.probes.table.probe_table); budgets, held-out
selection and 95 % bootstrap intervals [L]; docs/science.md, "Probes".
"""

from __future__ import annotations

import numpy as np

from lab.measures.features import check_features
from lab.measures.probes.gcn import rld_graph
from lab.measures.probes.table import BUDGETS, GCN_STEPS, GCN_TAU, PROBES, check_probe_names, probe_table
from lab.papers.zhang2023.analysis import Progress, cache_path
from lab.store.atomic import save_json_atomically
from lab.store.derived import load_json
from lab.store.neighbours import neighbour_table
from lab.view.labels import run_label

TABLE_PROBES = tuple(PROBES)  # the Probes page's table: every probe


def _probes_file(space: str, tau: float, steps: int, seed: int, names: tuple[str, ...]) -> str:
    return f"probes-{space}-tau{tau:g}-steps{steps}-s{seed}-{'+'.join(names)}.json"


def stored_probe_table(run, space: str = "backbone", tau: float = GCN_TAU, steps: int = GCN_STEPS,
                       seed: int = 0, probe_names: tuple[str, ...] = TABLE_PROBES) -> list[dict] | None:  # fmt: skip
    """The cached run_probe_table rows, or None."""
    rows = load_json(cache_path(run, _probes_file(space, tau, steps, seed, probe_names)))
    return rows if isinstance(rows, list) else None


def run_probe_table(run, space: str = "backbone", budgets: tuple[float, ...] = BUDGETS,
                    probe_names: tuple[str, ...] = TABLE_PROBES, tau: float = GCN_TAU, steps: int = GCN_STEPS,
                    seed: int = 0, progress: Progress | None = None) -> list[dict]:  # fmt: skip
    """Linear / kNN / GCN probes of a run (or the pixel baseline) per label budget; cached.

    The table is lab.measures.probes.table.probe_table on the run's train and test rows. Above
    10,000 nodes the RLD graph over train + test is kNN-sparsified with the run's stored kNN table.
    A budget with fewer than 2 labels per class gives rows with accuracy None and a "note".
    """
    cached = stored_probe_table(run, space, tau, steps, seed, probe_names)
    if cached is not None and {r["budget"] for r in cached} >= set(budgets):
        return [r for r in cached if r["budget"] in budgets]
    check_probe_names(probe_names)
    x, y, test = run.features(space), run.labels, np.asarray(run.is_test)
    x = check_features(x, y, name=f"{space} features")
    tr_x, tr_y, te_x, te_y = x[~test], y[~test], x[test], y[test]
    if len(te_y) == 0:
        raise ValueError("this run has no test rows; the probes score on the test split.")
    graph = None
    if (
        any(p.startswith("gcn") for p in probe_names)
        and len(x) > 10_000
        and (np.diff(test.astype(int)) >= 0).all()
    ):
        # train rows come first, so the stored table's rows are the graph's nodes
        if progress is not None:
            progress(0.0, f"Building the RLD graph over {len(x):,} images (τ={tau:g})...")
        table = neighbour_table(run, space)
        neighbors = (np.asarray(table.sims), np.asarray(table.idx, np.int64))
        graph = rld_graph(np.concatenate([tr_x, te_x]), tau, seed=seed, neighbors=neighbors)
    rows = probe_table(tr_x, tr_y, te_x, te_y, budgets, probe_names, tau, seed, steps,
                       name=run_label(run, score=False, ident=True), graph=graph, progress=progress)  # fmt: skip
    save_json_atomically(cache_path(run, _probes_file(space, tau, steps, seed, probe_names)), rows, indent=1)
    return rows
