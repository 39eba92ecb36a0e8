"""Per-run analyses of how a representation organises its images, cached beside the run.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229);
docs/science.md, section "Zhang 2023". The science lives in lab.measures; this module picks the
rows and parameters the app and `python -m lab reproduce zhang2023` use, and stores every result
with the run (lab.store.derived), keyed by the parameters that change it (the file name is the key):

  <run>/analysis/v<N>/rld-<space>-tau<t>-n<n>-d<draws>-s<seed>.npz   RLD per draw; rows and q_i of draw 0
  <run>/analysis/v<N>/chs-<space>.json                                Calinski-Harabasz score
  <run>/analysis/v<N>/purity-<space>-q<n>-s<seed>.npz                 purity curve, overall and per class

Rows [L]: the scalar measures (RLD, CHS, purity curve, cross-class pairs) use the training rows,
as the paper does; the per-point map layers cover every row of the map (train and test), except
per-point RLD, which exists for the subsample it was computed on. The raw-pixel baseline
(lab.store.baselines.pixel_baseline_of) goes through the same functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lab.measures.density import (
    DensityGrid,
    RLDEstimate,
    calinski_harabasz,
    check_tau,
    density_grid,
    knn_density_from_sims,
    rld_subsample,
)
from lab.measures.features import check_features
from lab.measures.purity import CrossClassPairs, PurityCurve, class_purity, pair_cosines, purity_curve
from lab.papers.zhang2023.constants import (
    ANALYSIS_VERSION,
    DENSITY_K,
    LAYERS,
    PAIRS_TOP,
    POINT_PURITY_P,
    PURITY_PS,
    PURITY_QUERIES,
    RLD_DRAWS,
    RLD_N,
    RLD_TAUS,
)
from lab.store.atomic import save_json_atomically, save_npz_atomically
from lab.store.derived import derived_path, load_json, load_npz
from lab.store.neighbours import class_pairs, neighbour_table, same_images

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is happening)


def cache_path(run, name: str):
    return derived_path(run, name, ANALYSIS_VERSION)


def run_problems(run, space: str = "backbone") -> list[str]:
    """What stops this run's features from being analysed, as sentences for the page (empty = fine).

    Checks the cases the measures cannot handle: non-finite features, a single class among the
    training rows, and fewer than 3 training rows (RLD needs 3, purity needs p + 1).
    """
    x, y = run.features(space), np.asarray(run.labels)
    train = ~np.asarray(run.is_test)
    problems = []
    bad = int((~np.isfinite(x)).any(axis=1).sum())
    if bad:
        problems.append(f"{bad:,} of {len(x):,} rows of the {space} features are NaN or infinite (a diverged "
                        "or damaged run); no density or purity can be computed. Retrain this config.")  # fmt: skip
    if len(np.unique(y[train])) < 2:
        problems.append("All training images of this run share one class; RLD, CHS and class purity compare "
                        "classes and need at least two. Train on a dataset or subset with several classes.")  # fmt: skip
    if int(train.sum()) < 3:
        problems.append(f"This run has {int(train.sum())} training rows; these measures need at least 3 "
                        "(and more points than neighbours asked for).")  # fmt: skip
    return problems


def _train_xy(run, space: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training features [n, d], their labels [n], their run rows [n])."""
    rows = np.flatnonzero(~np.asarray(run.is_test))
    return run.features(space)[rows], run.labels[rows], rows


# ---------------------------------------------------------------- Relative Local Density
@dataclass(frozen=True)
class RunRLD:
    """RLD of a run's training rows at one τ over several class-stratified draws, with the
    per-point values q_i of the first draw (the map layer)."""

    estimate: RLDEstimate  # mean, std and values over draws, n, tau
    rows: np.ndarray  # [n] run rows of the first draw
    per_point: np.ndarray  # [n] q_i of the first draw; sums to estimate.values[0]
    seconds: float  # wall time of the computation (0 when it was never timed)


def _rld_file(space: str, tau: float, n: int, draws: int, seed: int) -> str:
    return f"rld-{space}-tau{tau:g}-n{n}-d{draws}-s{seed}.npz"


def stored_run_rld(run, space: str = "backbone", tau: float = 0.2, n: int = RLD_N, draws: int = RLD_DRAWS,
                   seed: int = 0) -> RunRLD | None:  # fmt: skip
    """The cached run_rld result, or None when it has not been computed (or the file is damaged)."""
    f = load_npz(cache_path(run, _rld_file(space, tau, n, draws, seed)))
    if f is None or not {"values", "rows", "per_point", "n", "seconds"} <= set(f):
        return None
    return RunRLD(
        RLDEstimate.of(f["values"], int(f["n"]), tau), f["rows"], f["per_point"], float(f["seconds"])
    )


def run_rld(run, space: str = "backbone", tau: float = 0.2, n: int = RLD_N, draws: int = RLD_DRAWS,
            seed: int = 0, progress: Progress | None = None) -> RunRLD:  # fmt: skip
    """Relative Local Density of the run's training rows at τ, mean and spread over draws; cached.

    Zhang, Lu & Xuan 2023, Sec. 3 [P]: lab.measures.density.rld_subsample on the training rows
    (draws of n class-stratified points, seeds seed..seed+draws-1 [L, measured]; one draw of all
    rows when there are at most n). About 2.5 s per 10,000-point draw on 2 cores.
    progress(fraction, message) before every draw.
    """
    check_tau(tau)
    cached = stored_run_rld(run, space, tau, n, draws, seed)
    if cached is not None:
        return cached
    start = time.perf_counter()
    x, y, train_rows = _train_xy(run, space)
    x = check_features(x, y, name=f"{space} features")
    est = rld_subsample(x, y, tau, n, draws, seed, per_point=True, progress=progress)
    seconds = time.perf_counter() - start
    rows = train_rows[est.rows]
    save_npz_atomically(cache_path(run, _rld_file(space, tau, n, draws, seed)), values=est.values, rows=rows,
                        per_point=est.per_point, n=est.n, seconds=seconds)  # fmt: skip
    if progress is not None:
        progress(1.0, f"RLD at τ={tau:g} done in {seconds:.1f} s")
    return RunRLD(est, rows, est.per_point, seconds)


def stored_rld_taus(run, space: str = "backbone", n: int = RLD_N, draws: int = RLD_DRAWS, seed: int = 0):
    """{τ: RunRLD} for every τ of RLD_TAUS already computed for this run and space."""
    found = {tau: stored_run_rld(run, space, tau, n, draws, seed) for tau in RLD_TAUS}
    return {tau: r for tau, r in found.items() if r is not None}


# ---------------------------------------------------------------- global density and purity
def stored_chs(run, space: str = "backbone") -> float | None:
    cached = load_json(cache_path(run, f"chs-{space}.json"))
    return float(cached["chs"]) if isinstance(cached, dict) and "chs" in cached else None


def run_chs(run, space: str = "backbone") -> float:
    """Calinski-Harabasz score of the run's training rows (global density); cached.

    Zhang, Lu & Xuan 2023, Sec. 3 [P], via sklearn (lab.measures.density.calinski_harabasz).
    """
    cached = stored_chs(run, space)
    if cached is not None:
        return cached
    x, y, _ = _train_xy(run, space)
    value = calinski_harabasz(x, y)
    save_json_atomically(cache_path(run, f"chs-{space}.json"), {"chs": value})
    return value


def _purity_sizes(run, ps) -> tuple[int, ...]:
    n_train = int((~np.asarray(run.is_test)).sum())
    kept = tuple(int(p) for p in sorted(ps) if p <= n_train - 1)
    if not kept:
        raise ValueError(f"purity needs more points than neighbours: {n_train} training rows, p = {min(ps)}.")
    return kept


def stored_purity_curve(run, space: str = "backbone", ps: tuple[int, ...] = PURITY_PS,
                        n_queries: int = PURITY_QUERIES, seed: int = 0) -> PurityCurve | None:  # fmt: skip
    """The cached run_purity_curve result at the sizes this run has points for, or None."""
    kept = _purity_sizes(run, ps)
    f = load_npz(cache_path(run, f"purity-{space}-q{n_queries}-s{seed}.npz"))
    if f is None or not set(kept) <= set(f["ps"].tolist()):
        return None
    pick = np.searchsorted(f["ps"], kept)
    return PurityCurve(np.asarray(kept), f["overall"][pick], f["per_class"][:, pick], f["classes"],
                       int(f["n_queries"]))  # fmt: skip


def run_purity_curve(run, space: str = "backbone", ps: tuple[int, ...] = PURITY_PS,
                     n_queries: int = PURITY_QUERIES, seed: int = 0) -> PurityCurve:  # fmt: skip
    """kNN class purity of the training rows at each p (and per class); cached.

    Zhang, Lu & Xuan 2023, Sec. 3 [P] (lab.measures.purity.purity_curve: n_queries stratified
    queries against all training rows, one faiss search at max p). Sizes p larger than the training
    rows minus one are dropped (the curve says which remain); fewer than 2 training rows is an error.
    """
    cached = stored_purity_curve(run, space, ps, n_queries, seed)
    if cached is not None:
        return cached
    x, y, _ = _train_xy(run, space)
    curve = purity_curve(x, y, _purity_sizes(run, ps), n_queries, seed)
    save_npz_atomically(cache_path(run, f"purity-{space}-q{n_queries}-s{seed}.npz"), ps=curve.ps,
                        overall=curve.overall, per_class=curve.per_class, classes=curve.classes,
                        n_queries=curve.n_queries)  # fmt: skip
    return curve


# ---------------------------------------------------------------- per-point map layers
@dataclass(frozen=True)
class MapLayer:
    """A per-point quantity for the map: values of some run rows (others have none)."""

    name: str  # key of LAYERS
    label: str  # what the colour bar says, with its [P]/[L] tag
    rows: np.ndarray  # [m] run rows that have a value
    values: np.ndarray  # [m]


def run_map_layer(run, space: str = "backbone", layer: str = "purity", tau: float = 0.2,
                  progress: Progress | None = None) -> MapLayer:  # fmt: skip
    """A per-point layer for the map and its heatmap, computed in embedding space (never on the map).

    "purity": share of each row's 10 nearest neighbours (all rows, cosine) of its class [P];
    "density": 1 / mean cosine distance to the 10 nearest neighbours [L] (knn_density's formula);
    both read the run's stored kNN table (lab.store.neighbours, computed once). "rld": per-point
    RLD q_i of run_rld's first draw times its n, so that the layer's mean is that draw's RLD [L].
    """
    if layer not in LAYERS:
        raise ValueError(f"Unknown layer '{layer}'. Choose one of: {', '.join(LAYERS)}.")
    if layer == "rld":
        r = run_rld(run, space, tau, progress=progress)
        return MapLayer(layer, f"per-point RLD × n at τ={tau:g} [L]", r.rows, r.per_point * len(r.rows))
    labels = run.labels
    check_features(run.features(space), labels, name=f"{space} features")
    table = neighbour_table(run, space)
    k = min(POINT_PURITY_P if layer == "purity" else DENSITY_K, table.k)
    if layer == "purity":
        values = class_purity(np.asarray(table.idx[:, :k]), labels)
    else:
        values = knn_density_from_sims(table.sims[:, :k])
    label = f"purity@{k} [P]" if layer == "purity" else f"kNN density (k={k}) [L]"
    return MapLayer(layer, label, np.arange(len(labels)), np.asarray(values, dtype=np.float64))


def map_heatmap(xy: np.ndarray, layer: MapLayer, bins: int = 60) -> DensityGrid:
    """The spec's local-density grid [L] of a layer over the 2-D map xy [N, 2] (rows of the run)."""
    return density_grid(np.asarray(xy)[layer.rows], layer.values, bins)


# ---------------------------------------------------------------- cross-class pairs in two runs
def run_cross_class_pairs(run, other=None, space: str = "backbone", top: int = PAIRS_TOP) -> CrossClassPairs:
    """The run's most similar training pairs from different classes, with their cosine in `other`.

    Zhang, Lu & Xuan 2023, Sec. 3 [P] (paper: contrastive top pair 0.998, supervised -0.07);
    the lab's faiss top-50 version, stored with the run (lab.store.neighbours.class_pairs).
    other: a second run on the same images (lab.store.neighbours.same_images), or None.
    """
    if other is not None and not same_images(run, other):
        raise ValueError(f"runs {run.id} and {other.id} hold different images; pick a run on the same data.")
    pairs = class_pairs(run, space, top)
    cos_other = None if other is None else pair_cosines(other.features(space), pairs.i, pairs.j)
    return CrossClassPairs(pairs.i, pairs.j, pairs.cosine, cos_other)


def stored_measures_rows(reps, names: list[str], space: str = "backbone") -> list[dict]:
    """One row per representation of what is stored for it (nothing is computed): RLD mean and sd at
    each τ, CHS, purity at each p, for the Density page's download. reps: runs or pixel baselines;
    names: their labels, same order."""
    rows = []
    for rep, name in zip(reps, names, strict=True):
        row = {"representation": name, "space": space, "chs": stored_chs(rep, space)}
        for tau, r in stored_rld_taus(rep, space).items():
            row[f"rld_tau{tau:g}"], row[f"rld_tau{tau:g}_sd"], row[f"rld_tau{tau:g}_n"] = (
                r.estimate.mean,
                r.estimate.std,
                r.estimate.n,
            )
        try:
            curve = stored_purity_curve(rep, space)
        except ValueError:
            curve = None
        if curve is not None:
            row.update({f"purity_p{p}": float(v) for p, v in zip(curve.ps, curve.overall, strict=True)})
        rows.append(row)
    return rows
