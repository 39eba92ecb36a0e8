"""Nearest neighbours of a stored run, for clicks on the map and the cross-class pairs view.

One exact faiss search (lab.measures.neighbours.knn_search: cosine, self excluded) at the largest k the
app needs, stored in the run folder, so that a click is an array read:

  <run>/knn-<space>-k<k>.npy     structured [N] rows: idx int32 [k], sims float32 [k]
  <run>/pairs-<space>-top<t>.npy structured [t] rows: i, j int32, cosine float32

Both are written atomically (lab.store.atomic), so a reader never sees half a file. Until the table exists, a click falls back to a one-row faiss search (milliseconds).
Neighbours are searched in the embedding space (backbone h or projector z), never on the map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lab.measures.neighbours import cosine_index, knn_search
from lab.measures.purity import cross_class_pairs, pair_cosines
from lab.store.atomic import save_npy_atomically
from lab.store.runs import check_space

KNN_K = 50  # the largest k the app asks for (neighbour grid up to 50; cross-class pairs use 50)


# ---------------------------------------------------------------- the stored kNN table
@dataclass(frozen=True)
class NeighbourTable:
    """The k nearest neighbours (cosine, self excluded) of every row of a run."""

    idx: np.ndarray  # [N, k] int32 rows, most similar first
    sims: np.ndarray  # [N, k] float32 cosine similarities, descending

    @property
    def k(self) -> int:
        return self.idx.shape[1]


def table_k(n_rows: int, k: int = KNN_K) -> int:
    return max(1, min(k, n_rows - 1))


def table_path(run, space: str, k: int = KNN_K) -> Path:
    return Path(run.path) / f"knn-{space}-k{table_k(len(run.labels), k)}.npy"


_TABLES: dict = {}  # table file -> ((mtime, size), NeighbourTable): the last few read, for clicks


def stored_table(run, space: str = "backbone", k: int = KNN_K) -> NeighbourTable | None:
    """The stored table, or None when it has not been computed yet (or is damaged: neighbour_table()
    recomputes it). Read whole, never memory-mapped (a file truncated under a mapping kills the
    process), and kept in memory while the file stays as it was, so a click costs a stat."""
    check_space(space)
    path = table_path(run, space, k)
    try:
        st = path.stat()
    except OSError:
        return None
    stamp, hit = (st.st_mtime_ns, st.st_size), _TABLES.get(str(path))
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        rec = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if rec.shape != (len(run.labels),) or rec.dtype.names != ("idx", "sims"):
        return None
    table = NeighbourTable(rec["idx"], rec["sims"])
    _TABLES[str(path)] = (stamp, table)
    while len(_TABLES) > 4:
        _TABLES.pop(next(iter(_TABLES)))
    return table


def neighbour_table(run, space: str = "backbone", k: int = KNN_K) -> NeighbourTable:
    """The run's kNN table: loaded when stored, otherwise one exact search, stored, returned."""
    table = stored_table(run, space, k)
    if table is not None:
        return table
    x = run.features(space)
    k = table_k(len(x), k)
    sims, idx = knn_search(x, k)
    rec = np.empty(len(x), dtype=[("idx", np.int32, (k,)), ("sims", np.float32, (k,))])
    rec["idx"], rec["sims"] = idx, sims
    save_npy_atomically(table_path(run, space, k), rec)
    return NeighbourTable(rec["idx"], rec["sims"])


# ---------------------------------------------------------------- one click
@dataclass(frozen=True)
class Neighbours:
    """The k nearest neighbours of one clicked row, with what the page needs to draw them."""

    row: int
    label: int
    rows: np.ndarray  # [k] neighbour rows, most similar first
    sims: np.ndarray  # [k] cosine similarities
    labels: np.ndarray  # [k] their labels
    other_class: np.ndarray  # [k] bool: neighbour's label differs from the clicked image's
    cross_class_share: float  # share of the k neighbours from another class
    from_table: bool  # True when read from the stored table, False when searched on the spot


def neighbours_of(run, row: int, k: int = 16, space: str = "backbone") -> Neighbours:
    """The k nearest neighbours of `row` in the run's embedding space (cosine, self excluded)."""
    check_space(space)
    labels = run.labels
    n = len(labels)
    if not 0 <= row < n:
        raise ValueError(f"row {row} is outside this run's {n} images.")
    k = min(k, n - 1)
    if k < 1:
        raise ValueError("this run has a single image; there are no neighbours to show.")
    table = stored_table(run, space)
    if table is not None and table.k >= k:
        nb, sims, from_table = np.asarray(table.idx[row, :k], np.int64), np.asarray(table.sims[row, :k]), True
    else:  # until the run's table is stored (a few seconds after its map), one faiss search
        x, index = _features_and_index(run, space)
        sims, nb = knn_search(x, k, query_rows=np.array([row]), threads=1, index=index)
        nb, sims, from_table = nb[0], sims[0], False
    nb_labels = labels[nb]
    other = nb_labels != labels[row]
    return Neighbours(int(row), int(labels[row]), nb, sims, nb_labels, other, float(other.mean()), from_table)


_INDEXES: dict = {}  # (run folder, space) -> (features file's mtime, features, faiss index); the last 2


def prepare_search(run, space: str = "backbone") -> None:
    """Build the faiss index `neighbours_of` needs while the run's kNN table is not stored yet (a
    page calls this before the first click, so that click does not wait ~0.1 s for it)."""
    check_space(space)
    if stored_table(run, space) is None and len(run.labels) > 1:
        _features_and_index(run, space)


def _features_and_index(run, space: str):
    """A run's features and their faiss index, built once per run and space in this process: a
    click then searches in a few ms instead of ~0.1 s (normalising and indexing 70,000 rows each
    time). One thread: the search is small, and the app's worker may be busy on both cores."""
    key = (str(run.path), space)
    stamp = (
        (Path(run.path) / ("features.npy" if space == "backbone" else "embeddings.npy")).stat().st_mtime_ns
    )
    hit = _INDEXES.get(key)
    if hit is None or hit[0] != stamp:
        x = run.features(space)
        hit = _INDEXES[key] = (stamp, x, cosine_index(x))
        while len(_INDEXES) > 2:
            _INDEXES.pop(next(iter(_INDEXES)))
    return hit[1], hit[2]


# ---------------------------------------------------------------- cross-class pairs
@dataclass(frozen=True)
class ClassPairs:
    """The most similar training pairs whose classes differ, best first (rows of the run)."""

    i: np.ndarray  # [P]
    j: np.ndarray  # [P]
    cosine: np.ndarray  # [P] in this run's space


def pairs_path(run, space: str, top: int) -> Path:
    return Path(run.path) / f"pairs-{space}-top{top}.npy"


def stored_pairs(run, space: str = "backbone", top: int = 100) -> ClassPairs | None:
    path = pairs_path(run, space, top)
    if not path.is_file():
        return None
    try:
        rec = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return ClassPairs(rec["i"].astype(np.int64), rec["j"].astype(np.int64), rec["cosine"])


def class_pairs(run, space: str = "backbone", top: int = 100) -> ClassPairs:
    """Cross-class nearest pairs among the run's training rows (Zhang, Lu & Xuan 2023, Sec. 3 [P];
    the lab's faiss top-50 version in lab.measures.purity.cross_class_pairs). Stored after the first call."""
    check_space(space)
    pairs = stored_pairs(run, space, top)
    if pairs is not None:
        return pairs
    train = ~run.is_test  # rows: training rows first, so indices into x[train] are run rows
    x, labels = run.features(space)[train], run.labels[train]
    found = cross_class_pairs(x, labels, k=min(KNN_K, len(x) - 1), top=top)
    rec = np.empty(len(found.i), dtype=[("i", np.int32), ("j", np.int32), ("cosine", np.float32)])
    rec["i"], rec["j"], rec["cosine"] = found.i, found.j, found.cosine
    save_npy_atomically(pairs_path(run, space, top), rec)
    return ClassPairs(found.i.astype(np.int64), found.j.astype(np.int64), found.cosine.astype(np.float32))


def same_images(run_a, run_b) -> bool:
    """True when two runs hold the same evaluation images in the same rows (so rows can be compared)."""
    ca, cb = run_a.config, run_b.config
    same_data = (ca.dataset, ca.subset, ca.seed if ca.subset else 0) == (
        cb.dataset, cb.subset, cb.seed if cb.subset else 0,
    )  # fmt: skip
    return same_data and len(run_a.labels) == len(run_b.labels) and bool((run_a.labels == run_b.labels).all())


@dataclass(frozen=True)
class SharedRows:
    """The images two runs of one dataset both embedded, as rows of each run (same order)."""

    a: np.ndarray  # [M] rows of the first run
    b: np.ndarray  # [M] rows of the second run, the same images
    n_train: int  # how many of the M are training images (the rest are test images)


def shared_rows(run_a, run_b) -> SharedRows:
    """Rows of the images both runs embedded: the whole test split (every run of a dataset embeds it)
    and the training images of both subsets, matched by their index in the dataset's split.
    ValueError when the runs are of different datasets."""
    if run_a.config.dataset != run_b.config.dataset:
        raise ValueError(f"runs {run_a.id} ({run_a.config.dataset}) and {run_b.id} ({run_b.config.dataset}) "
                         "are of different datasets: they share no images.")  # fmt: skip
    if same_images(run_a, run_b):
        rows = np.arange(len(run_a.labels))
        return SharedRows(rows, rows, int((~np.asarray(run_a.is_test)).sum()))
    key_a = np.asarray(run_a.index, np.int64) * 2 + np.asarray(
        run_a.is_test, np.int64
    )  # (index, split) as one
    key_b = np.asarray(run_b.index, np.int64) * 2 + np.asarray(run_b.is_test, np.int64)
    common, rows_a, rows_b = np.intersect1d(key_a, key_b, assume_unique=True, return_indices=True)
    order = np.argsort(rows_a, kind="stable")  # the first run's row order: its training rows first
    return SharedRows(rows_a[order], rows_b[order], int(((common % 2) == 0).sum()))


def other_run_cosines(x_other: np.ndarray, rows: SharedRows, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cosine in a second run (features x_other [N_b, d]) of the first run's row pairs (i, j); NaN for a
    pair with an image the second run did not embed. rows: shared_rows(first, second). Returns [P]."""
    to_b = np.full(int(max(rows.a.max(initial=0), np.max(i, initial=0), np.max(j, initial=0))) + 1, -1)
    to_b[rows.a] = rows.b
    bi, bj = to_b[np.asarray(i)], to_b[np.asarray(j)]
    out = np.full(len(bi), np.nan, dtype=np.float32)
    ok = (bi >= 0) & (bj >= 0)
    if ok.any():
        out[ok] = pair_cosines(x_other, bi[ok], bj[ok])
    return out
