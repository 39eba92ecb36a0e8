"""Per-run analyses of how a representation organises its images, cached beside the run.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229),
spec/ALGORITHMS.md Sec. 3. The science lives in lab.geometry and lab.probes; this module picks
the rows and parameters the app and `python -m lab reproduce` use, and stores every result in
the run folder, keyed by the parameters that change it (the file name is the key):

  <run>/analysis/v<N>/rld-<space>-tau<t>-n<n>-d<draws>-s<seed>.npz   RLD per draw; rows and q_i of draw 0
  <run>/analysis/v<N>/chs-<space>.json                                Calinski-Harabasz score
  <run>/analysis/v<N>/purity-<space>-q<n>-s<seed>.npz                 purity curve, overall and per class
  <run>/analysis/v<N>/probes-<space>-tau<t>-steps<k>-s<seed>-<probes>.json   linear / kNN / GCN table

Files are written to a temporary name and renamed (os.replace); one that fails to load is
recomputed. v1 is ANALYSIS_VERSION: bump it when lab.geometry or lab.probes change what a
stored number means, so that old results are recomputed instead of shown. Rows [L]: the scalar measures (RLD, CHS, purity curve, cross-class pairs) use the
training rows, as the paper does; the per-point map layers cover every row of the map (train
and test), except per-point RLD, which exists for the subsample it was computed on.
The raw-pixel baseline (PCA-64, ALGORITHMS.md Sec. 7) goes through the same functions via
`pixel_baseline_of(run)`, cached in its own folder under <runs>/_baselines/.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lab import gcn, geometry, probes
from lab.baselines import PCA_DIMS, baseline_folder, load_pixel_features
from lab.neighbours import class_pairs, neighbour_table, pair_cosines, same_images

ANALYSIS_VERSION = 2  # part of every cache path (see the module docstring)
RLD_TAUS = (1.0, 0.5, 0.2, 0.1)  # spec Sec. 3: the τ selector on image features [P]
RLD_N = 10_000  # class-stratified subsample per draw [L, measured]
RLD_DRAWS = 5
PURITY_PS = (1, 10, 100, 500, 1000)  # the paper's neighbourhood sizes [P]
PURITY_QUERIES = 10_000
POINT_PURITY_P = 10  # per-point purity@10, a heatmap layer [P]
DENSITY_K = 10  # kNN density 1 / mean distance to the 10 nearest [L]
BUDGETS = (0.01, 0.1, 1.0)  # label budgets of the probe table [L]
PROBES = ("linear", "knn", "gcn-labels", "gcn-features")
GCN_TAU = 0.2  # the paper's GCN graph uses 0.2 or 0.1 [P]
GCN_STEPS = 60
LAYERS = {
    "rld": "per-point RLD × n (mean = RLD) [L]",
    "purity": f"purity@{POINT_PURITY_P} [P]",
    "density": f"kNN density 1/mean distance to {DENSITY_K} NN [L]",
}

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is happening)


def _say(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


# ---------------------------------------------------------------- the pixel baseline as a "run"
@dataclass
class PixelBaseline:
    """PCA-64 of raw pixels with the rows, labels and split of a run (ALGORITHMS.md Sec. 7).

    Looks like a Run to this module and to lab.neighbours (path, labels, is_test, features), so
    every analysis also runs on pixels; its caches live in the baseline's folder.
    """

    path: Path
    dataset: str
    subset: int | None
    seed: int
    root: Path
    labels: np.ndarray
    is_test: np.ndarray

    @property
    def id(self) -> str:
        return self.path.name

    def features(self, space: str = "backbone") -> np.ndarray:
        """The PCA-64 pixels [N, 64] (one space: `space` is accepted and ignored)."""
        return load_pixel_features(self.dataset, self.subset, self.seed, self.root)

    def title(self) -> str:
        return f"pixels (PCA-{PCA_DIMS}) · {self.dataset}"


def pixel_baseline_of(run) -> PixelBaseline:
    """The raw-pixel baseline on the same images, rows and split as `run` (computed once, cached)."""
    c = run.config
    root = Path(run.path).parent
    folder = baseline_folder(root, c.dataset, c.subset, c.seed)
    base = PixelBaseline(folder, c.dataset, c.subset, c.seed, root, run.labels, run.is_test)
    if len(base.features()) != len(run.labels):
        raise ValueError(
            f"the pixel baseline of {c.dataset} has other rows than run {run.id}; delete {folder}."
        )
    return base


def representation_name(run) -> str:
    """Short name of a run or the pixel baseline for tables and legends."""
    if isinstance(run, PixelBaseline):
        return f"pixels (PCA-{PCA_DIMS})"
    return f"{run.config.method} ({run.id[:6]})"


# ---------------------------------------------------------------- cache files
def _cache_path(run, name: str) -> Path:
    return Path(run.path) / "analysis" / f"v{ANALYSIS_VERSION}" / name


def _save_atomically(path: Path, write: Callable[[object], None], binary: bool = True) -> None:
    """Write through `write(file)` into a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_npz(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError):
        return None  # damaged: recomputed by the caller


def _load_json(path: Path):
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


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

    estimate: geometry.RLDEstimate  # mean, std and values over draws, n, tau
    rows: np.ndarray  # [n] run rows of the first draw
    per_point: np.ndarray  # [n] q_i of the first draw; sums to estimate.values[0]
    seconds: float  # wall time of the computation (0 when it was never timed)


def _rld_file(space: str, tau: float, n: int, draws: int, seed: int) -> str:
    return f"rld-{space}-tau{tau:g}-n{n}-d{draws}-s{seed}.npz"


def stored_run_rld(run, space: str = "backbone", tau: float = 0.2, n: int = RLD_N, draws: int = RLD_DRAWS,
                   seed: int = 0) -> RunRLD | None:  # fmt: skip
    """The cached run_rld result, or None when it has not been computed (or the file is damaged)."""
    f = _load_npz(_cache_path(run, _rld_file(space, tau, n, draws, seed)))
    if f is None or not {"values", "rows", "per_point", "n", "seconds"} <= set(f):
        return None
    vals = f["values"]
    est = geometry.RLDEstimate(float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                               vals, int(f["n"]), float(tau))  # fmt: skip
    return RunRLD(est, f["rows"], f["per_point"], float(f["seconds"]))


def run_rld(run, space: str = "backbone", tau: float = 0.2, n: int = RLD_N, draws: int = RLD_DRAWS,
            seed: int = 0, progress: Progress | None = None) -> RunRLD:  # fmt: skip
    """Relative Local Density of the run's training rows at τ, mean and spread over draws; cached.

    Zhang, Lu & Xuan 2023, Sec. 3 [P] (lab.geometry.relative_local_density, exact); the draws of n
    class-stratified points with seeds seed..seed+draws-1 are [L, measured], the same draws as
    lab.geometry.rld_subsample (one draw of all rows when there are at most n).
    About 2.5 s per 10,000-point draw on 2 cores. progress(fraction, message) after every draw.
    """
    if not tau > 0:
        raise ValueError(
            f"tau must be > 0; got {tau}. Typical values: {', '.join(f'{t:g}' for t in RLD_TAUS)}."
        )
    cached = stored_run_rld(run, space, tau, n, draws, seed)
    if cached is not None:
        return cached
    start = time.perf_counter()
    x, y, train_rows = _train_xy(run, space)
    x = geometry.check_features(x, y, name=f"{space} features")
    n_draws = 1 if n >= len(x) else draws
    values, first_rows, first_q = [], None, None
    for d in range(n_draws):
        _say(
            progress, d / n_draws, f"RLD at τ={tau:g}: draw {d + 1} of {n_draws} ({min(n, len(x)):,} points)"
        )
        rows = geometry.stratified_subsample(y, n, seed=seed + d)
        r = geometry.relative_local_density(x[rows], y[rows], tau, seed=seed + d, per_point=d == 0)
        values.append(r.value)
        if d == 0:
            first_rows, first_q = train_rows[rows], r.per_point
    seconds = time.perf_counter() - start
    vals = np.array(values)
    size = min(n, len(x))
    _save_atomically(
        _cache_path(run, _rld_file(space, tau, n, draws, seed)),
        lambda f: np.savez(f, values=vals, rows=first_rows, per_point=first_q, n=size, seconds=seconds),
    )
    _say(progress, 1.0, f"RLD at τ={tau:g} done in {seconds:.1f} s")
    est = geometry.RLDEstimate(float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                               vals, size, float(tau))  # fmt: skip
    return RunRLD(est, first_rows, first_q, seconds)


def stored_rld_taus(run, space: str = "backbone", n: int = RLD_N, draws: int = RLD_DRAWS, seed: int = 0):
    """{τ: RunRLD} for every τ of RLD_TAUS already computed for this run and space."""
    out = {}
    for tau in RLD_TAUS:
        r = stored_run_rld(run, space, tau, n, draws, seed)
        if r is not None:
            out[tau] = r
    return out


# ---------------------------------------------------------------- global density and purity
def run_chs(run, space: str = "backbone") -> float:
    """Calinski-Harabasz score of the run's training rows (global density); cached.

    Zhang, Lu & Xuan 2023, Sec. 3 [P], via sklearn (lab.geometry.calinski_harabasz).
    """
    path = _cache_path(run, f"chs-{space}.json")
    cached = _load_json(path)
    if isinstance(cached, dict) and "chs" in cached:
        return float(cached["chs"])
    x, y, _ = _train_xy(run, space)
    value = geometry.calinski_harabasz(x, y)
    _save_atomically(path, lambda f: json.dump({"chs": value}, f), binary=False)
    return value


def run_purity_curve(run, space: str = "backbone", ps: tuple[int, ...] = PURITY_PS,
                     n_queries: int = PURITY_QUERIES, seed: int = 0) -> geometry.PurityCurve:  # fmt: skip
    """kNN class purity of the training rows at each p (and per class); cached.

    Zhang, Lu & Xuan 2023, Sec. 3 [P] (lab.geometry.purity_curve: n_queries stratified queries
    against all training rows, one faiss search at max p). Sizes p larger than the training rows
    minus one are dropped (the curve says which remain); fewer than 2 training rows is an error.
    """
    n_train = int((~np.asarray(run.is_test)).sum())
    kept = tuple(int(p) for p in sorted(ps) if p <= n_train - 1)
    if not kept:
        raise ValueError(f"purity needs more points than neighbours: {n_train} training rows, p = {min(ps)}.")
    path = _cache_path(run, f"purity-{space}-q{n_queries}-s{seed}.npz")
    f = _load_npz(path)
    if f is not None and set(kept) <= set(f["ps"].tolist()):
        pick = np.searchsorted(f["ps"], kept)
        return geometry.PurityCurve(np.asarray(kept), f["overall"][pick], f["per_class"][:, pick],
                                    f["classes"], int(f["n_queries"]))  # fmt: skip
    x, y, _ = _train_xy(run, space)
    curve = geometry.purity_curve(x, y, kept, n_queries, seed)
    _save_atomically(path, lambda fh: np.savez(fh, ps=curve.ps, overall=curve.overall, per_class=curve.per_class,
                                               classes=curve.classes, n_queries=curve.n_queries))  # fmt: skip
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
    "density": 1 / mean cosine distance to the 10 nearest neighbours [L] (as geometry.knn_density);
    both read the run's stored kNN table (lab.neighbours, computed once). "rld": per-point RLD q_i
    of run_rld's first draw times its n, so that the layer's mean is that draw's RLD [L].
    """
    if layer not in LAYERS:
        raise ValueError(f"Unknown layer '{layer}'. Choose one of: {', '.join(LAYERS)}.")
    if layer == "rld":
        r = run_rld(run, space, tau, progress=progress)
        return MapLayer(layer, f"per-point RLD × n at τ={tau:g} [L]", r.rows, r.per_point * len(r.rows))
    labels = run.labels
    geometry.check_features(run.features(space), labels, name=f"{space} features")
    _say(progress, 0.0, "Reading the stored nearest neighbours (faiss, computed once per run)...")
    table = neighbour_table(run, space)
    k = min(POINT_PURITY_P if layer == "purity" else DENSITY_K, table.k)
    rows = np.arange(len(labels))
    if layer == "purity":
        values = geometry.class_purity(np.asarray(table.idx[:, :k]), labels)
    else:  # the formula of geometry.knn_density, on the stored table instead of a new search
        values = 1.0 / np.maximum((1.0 - np.asarray(table.sims[:, :k], np.float64)).mean(1), 1e-6)
    _say(progress, 1.0, "done")
    label = f"purity@{k} [P]" if layer == "purity" else f"kNN density (k={k}) [L]"
    return MapLayer(layer, label, rows, np.asarray(values, dtype=np.float64))


def map_heatmap(xy: np.ndarray, layer: MapLayer, bins: int = 60) -> geometry.DensityGrid:
    """The spec's local-density grid [L] of a layer over the 2-D map xy [N, 2] (rows of the run)."""
    return geometry.density_grid(np.asarray(xy)[layer.rows], layer.values, bins)


# ---------------------------------------------------------------- cross-class pairs in two runs
def run_cross_class_pairs(
    run, other=None, space: str = "backbone", top: int = 100
) -> geometry.CrossClassPairs:
    """The run's most similar training pairs from different classes, with their cosine in `other`.

    Zhang, Lu & Xuan 2023, Sec. 3 [P] (paper: contrastive top pair 0.998, supervised -0.07);
    the lab's faiss top-50 version, stored with the run (lab.neighbours.class_pairs).
    other: a second run on the same images (lab.neighbours.same_images), or None.
    """
    if other is not None and not same_images(run, other):
        raise ValueError(f"runs {run.id} and {other.id} hold different images; pick a run on the same data.")
    pairs = class_pairs(run, space, top)
    cos_other = None if other is None else pair_cosines(other.features(space), pairs.i, pairs.j)
    return geometry.CrossClassPairs(pairs.i, pairs.j, pairs.cosine, cos_other)


# ---------------------------------------------------------------- the probe table
def _probes_file(space: str, tau: float, steps: int, seed: int, names: tuple[str, ...]) -> str:
    return f"probes-{space}-tau{tau:g}-steps{steps}-s{seed}-{'+'.join(names)}.json"


def stored_probe_table(run, space: str = "backbone", tau: float = GCN_TAU, steps: int = GCN_STEPS,
                       seed: int = 0, probe_names: tuple[str, ...] = PROBES) -> list[dict] | None:  # fmt: skip
    """The cached run_probe_table rows, or None."""
    rows = _load_json(_cache_path(run, _probes_file(space, tau, steps, seed, probe_names)))
    return rows if isinstance(rows, list) else None


def run_probe_table(run, space: str = "backbone", budgets: tuple[float, ...] = BUDGETS,
                    probe_names: tuple[str, ...] = PROBES, tau: float = GCN_TAU, steps: int = GCN_STEPS,
                    seed: int = 0, progress: Progress | None = None) -> list[dict]:  # fmt: skip
    """Linear / kNN / GCN probes of a run (or the pixel baseline) per label budget; cached.

    Zhang, Lu & Xuan 2023 probes [P] (lab.probes); budgets, held-out selection and 95 % bootstrap
    intervals [L]. Rows as lab.probes.probe_table (features, probe, budget, n_labels, accuracy,
    ci_low, ci_high, choices), plus "seconds". The RLD graph over train + test is built once; above
    10,000 nodes it reuses the run's stored kNN table. A budget with fewer than 2 labels per class
    gives rows with accuracy None and a "note" instead of failing the table.
    """
    cached = stored_probe_table(run, space, tau, steps, seed, probe_names)
    if cached is not None and {r["budget"] for r in cached} >= set(budgets):
        return [r for r in cached if r["budget"] in budgets]
    unknown = [p for p in probe_names if p not in PROBES]
    if unknown:
        raise ValueError(f"Unknown probe {unknown[0]!r}. Choose from: {', '.join(PROBES)}.")
    x, y, test = run.features(space), run.labels, np.asarray(run.is_test)
    x = geometry.check_features(x, y, name=f"{space} features")
    tr_x, tr_y, te_x, te_y = x[~test], y[~test], x[test], y[test]
    if len(te_y) == 0:
        raise ValueError("this run has no test rows; the probes score on the test split.")
    name = representation_name(run)
    graph = None
    if any(p.startswith("gcn") for p in probe_names):
        _say(progress, 0.0, f"Building the RLD graph over {len(x):,} images (τ={tau:g})...")
        neighbors = None
        if len(x) > 10_000 and (np.diff(test.astype(int)) >= 0).all():  # train rows first: table rows = nodes
            table = neighbour_table(run, space)
            neighbors = (np.asarray(table.sims), np.asarray(table.idx, np.int64))
        graph = gcn.rld_graph(np.concatenate([tr_x, te_x]), tau, seed=seed, neighbors=neighbors)
    rows, total, done = [], len(budgets) * len(probe_names), 0
    for budget in budgets:
        try:
            known = probes.label_budget(tr_y, budget, seed)
            fewest = np.unique(tr_y[known], return_counts=True)[1].min()
            if fewest < 2 or len(np.unique(tr_y[known])) < len(np.unique(tr_y)):
                raise ValueError(f"budget {budget} leaves a class with {fewest} label(s); the probes need at "
                                 "least 2 per class (one to fit, one held out). Use more training images.")  # fmt: skip
        except ValueError as exc:
            rows += [{"features": name, "probe": p, "budget": budget, "n_labels": round(budget * len(tr_y)),
                      "accuracy": None, "ci_low": None, "ci_high": None, "note": str(exc)}
                     for p in probe_names]  # fmt: skip
            done += len(probe_names)
            continue
        for p in probe_names:
            _say(progress, done / total, f"{name}: {p} probe with {len(known):,} labels ({budget:.0%})...")
            start = time.perf_counter()
            if p == "linear":
                r = probes.linear_probe(tr_x[known], tr_y[known], te_x, te_y, seed=seed)
            elif p == "knn":
                r = probes.knn_probe(tr_x[known], tr_y[known], te_x, te_y, k=min(20, len(known)))
            else:
                r = gcn.gcn_probe(tr_x, tr_y, te_x, te_y, p[4:], tau, budget, seed, steps, graph=graph)
            lo, hi = probes.bootstrap_interval(r.predictions == te_y, seed=seed)
            rows.append({"features": name, "probe": p, "budget": budget, "n_labels": len(known),
                         "accuracy": r.accuracy, "ci_low": lo, "ci_high": hi, **r.chosen,
                         "seconds": round(time.perf_counter() - start, 2)})  # fmt: skip
            done += 1
    _save_atomically(_cache_path(run, _probes_file(space, tau, steps, seed, probe_names)),
                     lambda f: json.dump(rows, f, indent=1), binary=False)  # fmt: skip
    _say(progress, 1.0, "Probes done.")
    return rows
