"""How good a representation would be as SePP's sampler: pair precision and coverage of the partners it
mines, over a grid of settings, cached beside the run (or its pixel baseline).

Alkhalefi, Leontidis & Zhong 2023 (arXiv 2306.16122); docs/science.md, "SePP". The mining is
lab.papers.sepp2023.partners (faiss); this module picks the rows (the training split) and stores

  <run>/analysis/v<N>/sepp2023-sampler-<space>.json    {"rows": [...], "oracle": ..., "random": ...}
"""

from __future__ import annotations

import time

import numpy as np

from lab.papers.sepp2023.partners import mine_partners, oracle_partners, pair_precision, random_partners
from lab.store.atomic import save_json_atomically
from lab.store.derived import derived_path, load_json

ANALYSIS_VERSION = 1  # bump when a stored number changes meaning
GRID_K = (1, 5, 10)
GRID_QUANTILE = (0.0, 0.5)
GRID_MUTUAL = (False, True)


def _path(rep, space: str):
    return derived_path(rep, f"sepp2023-sampler-{space}.json", ANALYSIS_VERSION)


def stored_sampler_quality(rep, space: str = "backbone") -> dict | None:
    found = load_json(_path(rep, space))
    return found if isinstance(found, dict) and "rows" in found else None


def run_sampler_quality(rep, space: str = "backbone", seed: int = 0) -> dict:
    """Pair precision, coverage and mean partners of the training rows' partners mined from this
    representation, for every k, quantile and mutual setting of the grid; with the oracle and random
    bounds at k = 5. One faiss search per setting (seconds for 60,000 rows); cached."""
    cached = stored_sampler_quality(rep, space)
    if cached is not None:
        return cached
    start = time.perf_counter()
    train = ~np.asarray(rep.is_test, bool)
    x, y = rep.features(space)[train], np.asarray(rep.labels)[train]
    rows = []
    for k in GRID_K:
        for q in GRID_QUANTILE:
            for mutual in GRID_MUTUAL:
                p = mine_partners(x, min(k, len(x) - 1), q, mutual)
                rows.append({"k": k, "quantile": q, "mutual": mutual, "pair_precision": pair_precision(p, y),
                             "coverage": p.coverage, "mean_partners": p.mean_partners})  # fmt: skip
    bounds = {name: pair_precision(p, y) for name, p in
              (("oracle", oracle_partners(y, 5, seed)), ("random", random_partners(len(y), 5, seed)))}  # fmt: skip
    out = {"rows": rows, **bounds, "n": int(train.sum()), "seconds": round(time.perf_counter() - start, 2)}
    save_json_atomically(_path(rep, space), out)
    return out
