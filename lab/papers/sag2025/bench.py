"""`python -m lab bench-paper sag2025 [--quick]`: SAG-VICReg's speed targets, each beside its peer.

- A training step of sag-vicreg at batch 512 against vicreg's in the same process, interleaved step by
  step (target: the walks add at most 25 %).
- The kNN-graph page: a 500-node neighbourhood with 20 walks, drawn at map coordinates (the page's
  default) and with the force layout (target 2 s), and a new set of walks after a slider move (target
  0.5 s), on a 20,000-point clustered stand-in with its exact faiss kNN table (stored before the page
  draws anything, as in the app).
Timings exclude warm-up steps and say so; docs/performance.md holds the figures.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

STEP_TARGET, GRAPH_TARGET, WALK_TARGET = 1.25, 2.0, 0.5


def _dataset():
    from lab.core.data import DatasetUnavailable, load_dataset

    try:
        return load_dataset("fashion-mnist")
    except (DatasetUnavailable, OSError, ValueError):
        return load_dataset("digits")


def bench_step(batch: int = 512, steps: int = 20, warmup: int = 3) -> dict:
    """Median step seconds of vicreg and sag-vicreg (interleaved, after `warmup` steps each)."""
    from lab.bench.steps import method_stepper
    from lab.core.device import pick_device
    from lab.papers.sag2025.losses import batch_walks

    device = pick_device("auto")
    ds = _dataset()
    run = {m: method_stepper(m, ds, batch, device) for m in ("vicreg", "sag-vicreg")}
    times = {m: [] for m in run}
    for i in range(warmup + steps):
        for m, step in run.items():
            t = step()
            if i >= warmup:
                times[m].append(t)
    y = torch.randn(batch, 128, device=device)
    walk_times = []
    for i in range(warmup + steps):
        t = time.perf_counter()
        batch_walks(y, 5, 2, False)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            walk_times.append(time.perf_counter() - t)
    vic, sag = statistics.median(times["vicreg"]), statistics.median(times["sag-vicreg"])
    return {"device": str(device), "dataset": ds.name, "batch": batch, "steps": steps, "vicreg_s": vic,
            "sag_s": sag, "ratio": sag / vic, "walks_s": statistics.median(walk_times)}  # fmt: skip


class _StandIn:
    """A representation the graph functions accept: clustered features, labels and a folder for its table."""

    def __init__(self, folder: Path, n: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 10, n)
        centres = rng.normal(size=(10, 64))
        self._x = (centres[self.labels] + 0.8 * rng.normal(size=(n, 64))).astype(np.float32)
        self.path, self.is_test = folder, np.zeros(n, bool)

    def features(self, space: str = "backbone") -> np.ndarray:
        return self._x


def bench_graph(n: int = 20_000, nodes: int = 500, walks: int = 20, repeats: int = 3) -> dict:
    """Seconds to build and draw a `nodes`-node neighbourhood with `walks` walks, at map coordinates (the
    page's default; a random stand-in map here) and with the force layout, and to draw new walks after a
    slider move; best of `repeats` after one warm-up."""
    from lab.papers.sag2025.figures import graph_figure
    from lab.papers.sag2025.graphview import neighbourhood, positions, walks_from
    from lab.store.neighbours import neighbour_table

    with tempfile.TemporaryDirectory() as tmp:
        rep = _StandIn(Path(tmp), n)
        t = time.perf_counter()
        neighbour_table(rep)
        table_s = time.perf_counter() - t
        xy = np.random.default_rng(1).normal(size=(n, 2))
        names = [str(c) for c in range(10)]
        times = {"map": [], "force": [], "again": []}
        for r in range(repeats + 1):
            for layout in ("map", "force"):
                t = time.perf_counter()
                nb = neighbourhood(rep, r, k=10, max_nodes=nodes)
                pos = positions(nb, layout, xy)
                w = walks_from(rep, nb, n_walks=walks, seed=r)
                graph_figure(nb, pos, w.paths, names, "bench")
                times[layout].append(time.perf_counter() - t)
            t = time.perf_counter()
            w = walks_from(rep, nb, k=8, t=3, bandwidth=1.5, n_walks=walks, seed=r + 1)
            graph_figure(nb, pos, w.paths, names, "bench")
            times["again"].append(time.perf_counter() - t)
    best = {k: min(v[1:]) for k, v in times.items()}
    return {"points": n, "nodes": len(nb.rows), "edges": len(nb.edges), "walks": walks, "table_s": table_s,
            "graph_s": best["map"], "force_s": best["force"], "walk_s": best["again"]}  # fmt: skip


def main(quick: bool = False) -> int:
    from lab.store.provenance import machine_line

    print(f"sag2025 benchmark · {machine_line()}")
    s = bench_step(steps=5 if quick else 20)
    print(f"training step at batch {s['batch']} on {s['device']} ({s['dataset']}, median of {s['steps']} after 3 "
          f"warm-up steps each, interleaved): vicreg {1000 * s['vicreg_s']:.0f} ms, sag-vicreg "
          f"{1000 * s['sag_s']:.0f} ms: x{s['ratio']:.3f} (target ≤ x{STEP_TARGET}: "
          f"{'met' if s['ratio'] <= STEP_TARGET else 'MISSED'}); the walks alone {1000 * s['walks_s']:.1f} ms")  # fmt: skip
    g = bench_graph(n=5_000 if quick else 20_000, repeats=1 if quick else 3)
    met = {k: "met" if g[k] <= target else "MISSED" for k, target in
           (("graph_s", GRAPH_TARGET), ("force_s", GRAPH_TARGET), ("walk_s", WALK_TARGET))}  # fmt: skip
    print(f"graph page on a {g['points']:,}-point stand-in (its kNN table took {g['table_s']:.1f} s, stored "
          f"beforehand in the app): {g['nodes']} nodes, {g['edges']} edges, {g['walks']} walks, drawn at map "
          f"coordinates (the page's default) in {g['graph_s']:.2f} s (target {GRAPH_TARGET} s: {met['graph_s']}), "
          f"with the force layout in {g['force_s']:.2f} s ({met['force_s']}); new walks after a slider move "
          f"{g['walk_s']:.3f} s (target {WALK_TARGET} s: {met['walk_s']})")  # fmt: skip
    return 0
