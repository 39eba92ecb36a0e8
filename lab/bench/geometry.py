"""Benchmark of the geometry measures and the GCN probe at Fashion-MNIST size (70,000 x 64).

Zhang, Lu & Xuan 2023 measures (docs/science.md, "Zhang 2023") timed on the lab's scale [L].
Features: PCA-64 of Fashion-MNIST pixels when the Debian dataset package is installed
(/usr/share/datasets/fashion-mnist/), else seeded random clustered data; the output says which.
Run: python -m lab bench-geometry
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import torch

from lab.core.data import DatasetUnavailable, load_dataset
from lab.measures.density import relative_local_density, rld_subsample
from lab.measures.features import exact_search_backend, faiss_blas_core, l2_normalize, stratified_subsample
from lab.measures.neighbours import approx_knn_graph, cosine_index, flat_search, knn_search, search_backend
from lab.measures.probes.common import label_budget
from lab.measures.probes.gcn import gcn_probe, rld_graph
from lab.measures.probes.linear import linear_probe
from lab.measures.purity import cross_class_pairs, purity_curve
from lab.store.baselines import PCA_DIMS, pixel_features


def bench_features(d: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int, str]:
    """(x [70000, d] float32, labels [70000], n_train, source): the lab's PCA-64 pixel baseline of
    Fashion-MNIST (PCA fitted on the training rows, lab.store.baselines.pixel_features), or random
    clusters when Fashion-MNIST is not here."""
    try:
        ds = load_dataset("fashion-mnist")
    except DatasetUnavailable:
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 10, 70_000)
        x = rng.normal(size=(10, d))[y] + rng.normal(size=(70_000, d)) * 1.5
        return (
            x.astype(np.float32),
            y,
            60_000,
            f"random clustered data (10 classes, {d}-d; Fashion-MNIST not found)",
        )
    if d != PCA_DIMS:
        raise ValueError(f"the pixel baseline is PCA-{PCA_DIMS}; got d={d}.")
    y = np.concatenate([ds.train_labels.numpy(), ds.test_labels.numpy()])
    return (
        pixel_features("fashion-mnist"),
        y,
        len(ds.train_labels),
        f"Fashion-MNIST pixels, PCA-{d} (fit on train)",
    )


def _timed(fn):
    """(fn(), wall seconds); the CPU seconds of the last call are kept in _timed.cpu."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    _timed.cpu = time.process_time() - c
    return out, time.perf_counter() - t


class _Table:
    """The benchmark's rows, printed as they come."""

    def __init__(self):
        self.rows: list[dict] = []
        print(f"{'measure':<52} {'wall s':>7} {'cpu s':>7}  {'target':<9} result")

    def row(self, what, seconds, result, target="", cpu=None) -> None:
        cpu = _timed.cpu if cpu is None else cpu
        self.rows.append({"measure": what, "seconds": seconds, "cpu_seconds": cpu, "result": result,
                          "target": target})  # fmt: skip
        print(f"{what:<52} {seconds:>7.2f} {cpu:>7.2f}  {target:<9} {result}", flush=True)


def _search_backends(t: _Table, x, n_train: int) -> None:
    """The exact search two ways on the same points: faiss IndexFlatIP and torch's blocked matmul +
    top-k (lab.measures.neighbours.flat_search), for a kNN probe's shape (test rows against training
    rows, k = 20) at the features' 64 dims and lifted to 256 (a run's backbone width) by a fixed random
    matrix: search time depends on the dims, not on what the features mean."""
    print(f"faiss's BLAS: OpenBLAS kernels {faiss_blas_core()}; torch: {torch.backends.cpu.get_cpu_capability()}; "
          f"the lab's large exact searches here: {exact_search_backend()} (lab.measures.neighbours.search_backend)")  # fmt: skip
    lift = np.random.default_rng(0).normal(size=(x.shape[1], 256)).astype(np.float32)
    for d, feats in [(x.shape[1], x), (256, x @ lift)]:
        index, q = cosine_index(feats[:n_train]), l2_normalize(feats[n_train:])
        what = f"{len(q):,} test x {n_train:,} train, {d} dims, k=20"
        (_, f_idx), s_f = _timed(lambda: flat_search(index, q, 20, None, backend="faiss"))  # noqa: B023
        t.row(f"exact search by faiss, {what}", s_f, "")
        (_, t_idx), s_t = _timed(lambda: flat_search(index, q, 20, None, backend="torch"))  # noqa: B023
        t.row(f"exact search by torch, {what}", s_t,
              f"{s_f / s_t:.2f}x faiss's speed; same neighbours {(t_idx == f_idx).mean():.2%}")  # fmt: skip


def _density_and_neighbours(t: _Table, x, y, n_train: int, tau: float, draws: int):
    """RLD on 10k and over draws, the purity curve, the kNN table, UMAP's graph, pairs, RLD on all
    training points. Returns the kNN table (sims, idx) and its search's (wall, cpu) seconds."""
    sub = stratified_subsample(y, 10_000, seed=0)
    r, s = _timed(lambda: relative_local_density(x[sub], y[sub], tau))
    t.row("RLD, 10k stratified subsample (exact)", s, f"RLD = {r.value:.3f}", "~2.5 s")
    t_rld = s
    est, s = _timed(lambda: rld_subsample(x, y, tau, n=10_000, draws=draws))
    t.row(
        f"RLD spread over {draws} draws of 10k",
        s,
        f"{est.mean:.3f} +/- {est.std:.3f} (sd)",
        f"~{2.5 * draws:.0f} s",
    )
    pc, t_pur = _timed(lambda: purity_curve(x, y, n_queries=10_000))
    t.row(
        "purity curve p=1/10/100/500/1000, 10k queries",
        t_pur,
        "/".join(f"{v:.3f}" for v in pc.overall),
        "~3 s",
    )
    nb, t_knn = _timed(lambda: knn_search(x, 50))
    c_knn = _timed.cpu
    t.row(
        f"run's kNN table: exact k=50 ({search_backend(len(x), x.shape[1], 51)}), all points",
        t_knn,
        "once per run, stored (lab.store.neighbours)",
    )
    (_, approx), s = _timed(lambda: approx_knn_graph(x, 14))
    exact14 = np.asarray(nb[1])[:, :14]
    recall = (
        np.mean([len(set(a) & set(b)) for a, b in zip(approx.tolist(), exact14.tolist(), strict=True)]) / 14
    )
    t.row("UMAP's graph above 20k points: faiss IVF 14-NN, all points", s,
          f"recall {recall:.3f} against the exact table (lab.store.maps)")  # fmt: skip
    pairs, t_pairs = _timed(lambda: cross_class_pairs(x, y, k=50, top=100, neighbors=nb))
    t.row("cross-class pairs, all points, from the table", t_pairs,
          f"top cosine {pairs.cosine[0]:.4f}, 100th {pairs.cosine[-1]:.4f}")  # fmt: skip
    t.row("RLD 10k + purity + pairs (table stored)", t_rld + t_pur + t_pairs, "", "<= 15 s", 0.0)
    t.row("RLD 10k + purity + pairs + the table search", t_rld + t_pur + t_knn + t_pairs, "", "", 0.0)
    train = stratified_subsample(y[:n_train], n_train, seed=0)
    full, s = _timed(lambda: relative_local_density(x[train], y[train], tau))
    t.row(f"RLD, all {n_train:,} training points (exact)", s, f"RLD = {full.value:.3f}", "<= 180 s")
    return nb, (t_knn, c_knn)


def _gcn(t: _Table, x, y, n_train: int, tau: float, nb, knn_time, steps: int, budget: float) -> None:
    """The GCN probe on the graph built from the kNN table, and the linear probe on the same labels."""
    xtr, ytr, xte, yte = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    graph, t_graph = _timed(lambda: rld_graph(x, tau, neighbors=nb))  # rows: train then test
    c_graph = _timed.cpu
    t.row("GCN graph from the kNN table (W on k=50 edges)", t_graph, f"{graph.values().numel():,} edges")
    g, t_fit = _timed(lambda: gcn_probe(xtr, ytr, xte, yte, tau=tau, budget=budget, steps=steps, graph=graph))
    result = f"acc {g.accuracy:.4f} (step {g.chosen['step']}, val {g.chosen['val_accuracy']:.3f})"
    t.row(f"GCN probe (labels) training, {steps} steps, budget {budget}", t_fit, result)
    c_fit = _timed.cpu
    t.row("GCN probe, graph + training (table reused)", t_graph + t_fit, "", "<= 30 s", c_graph + c_fit)
    t.row("GCN probe, search + graph + training", knn_time[0] + t_graph + t_fit, "", "<= 30 s",
          knn_time[1] + c_graph + c_fit)  # fmt: skip
    known = label_budget(ytr, budget, seed=0)  # the GCN's known labels
    lin, s = _timed(lambda: linear_probe(xtr[known], ytr[known], xte, yte))
    t.row(
        f"linear probe, same {len(known):,} labels (reference)",
        s,
        f"acc {lin.accuracy:.4f} (C={lin.chosen['C']})",
    )


def main(tau: float = 0.2, draws: int = 5, gcn_steps: int = 60, gcn_budget: float = 0.1) -> list[dict]:
    """Time RLD (10k subsample, spread over draws), the purity curve, cross-class pairs, the GCN probe.

    Prints a table and returns its rows. Peak RSS is this process's maximum resident memory.
    """
    (x, y, n_train, source), t_load = _timed(bench_features)
    print(f"features: {source}; {x.shape[0]:,} x {x.shape[1]} float32 (loaded in {t_load:.1f} s)")
    print(f"tau = {tau}; wall seconds, one run each; cpu = this process's CPU seconds (cpu << wall")
    print(f"on 2 cores means other work competed); load average at start {os.getloadavg()[0]:.1f}\n")
    table = _Table()
    _search_backends(table, x, n_train)
    nb, knn_time = _density_and_neighbours(table, x, y, n_train, tau, draws)
    _gcn(table, x, y, n_train, tau, nb, knn_time, gcn_steps, gcn_budget)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"\npeak RSS: {peak:,.0f} MiB; load average at end {os.getloadavg()[0]:.1f}")
    table.rows.append({"measure": "peak RSS (MiB)", "seconds": 0.0, "cpu_seconds": 0.0, "result": f"{peak:.0f}",
                       "target": ""})  # fmt: skip
    return table.rows
