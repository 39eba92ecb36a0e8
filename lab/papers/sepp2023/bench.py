"""`python -m lab bench-paper sepp2023 [--quick]`: SePP's speed target, mining partners for 60,000 images
within 10 s, beside the time to make the sampler's features (PCA-64 of Fashion-MNIST's pixels, or a
clustered stand-in of the same shape when the dataset is not here) and against a vicreg training step
measured in the same run. Each mining runs with faiss on 1 and on 2 threads, interleaved, and says whether
the two found the same partners. docs/performance.md holds the figures.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

MINING_TARGET = 10.0


def _features(n: int) -> tuple[np.ndarray, np.ndarray, str, float]:
    """(features [n, 64], labels, what they are, seconds to make them)."""
    from lab.core.data import DatasetUnavailable, load_dataset
    from lab.store.baselines import pixel_features

    t = time.perf_counter()
    try:
        ds = load_dataset("fashion-mnist")
        x = pixel_features("fashion-mnist")[:n]
        return (
            x,
            ds.train_labels.numpy()[:n],
            "PCA-64 of Fashion-MNIST's training pixels",
            time.perf_counter() - t,
        )
    except (DatasetUnavailable, OSError, ValueError):
        rng = np.random.default_rng(0)
        y = rng.integers(0, 10, n)
        x = (rng.normal(size=(10, 64))[y] + rng.normal(size=(n, 64))).astype(np.float32)
        return x, y, "a clustered stand-in (Fashion-MNIST is not here)", time.perf_counter() - t


def _mine_both(x: np.ndarray, k: int, quantile: float, mutual: bool, order: tuple[int, ...]) -> dict:
    """{threads: (seconds, Partners)} of one mining per faiss thread count, in the given order."""
    from lab.papers.sepp2023.partners import mine_partners

    out = {}
    for threads in order:
        t = time.perf_counter()
        p = mine_partners(x, k, quantile, mutual, threads=threads)
        out[threads] = (time.perf_counter() - t, p)
    return out


def _vicreg_step(steps: int) -> tuple[float, int]:
    """(median seconds of one vicreg training step after 3 warm-up steps, the batch: the lab's default)."""
    from lab.bench.steps import method_stepper
    from lab.core.config import PROTOCOL_RECIPE
    from lab.core.data import DatasetUnavailable, load_dataset
    from lab.core.device import pick_device

    try:
        ds = load_dataset("fashion-mnist")
    except (DatasetUnavailable, OSError, ValueError):
        ds = load_dataset("digits")
    batch = PROTOCOL_RECIPE["batch_size"]  # the batch of the protocol's runs
    step = method_stepper("vicreg", ds, batch, pick_device("auto"))
    return statistics.median([step() for _ in range(3 + steps)][3:]), batch


def main(quick: bool = False) -> int:
    from lab.papers.sepp2023.partners import pair_precision
    from lab.papers.sepp2023.samplers import mining_threads
    from lab.store.provenance import machine_line

    print(f"sepp2023 benchmark · {machine_line()} · load average {os.getloadavg()[0]:.2f} at the start")
    n = 10_000 if quick else 60_000
    x, y, what, feature_s = _features(n)
    print(
        f"sampler features: {what}, {len(x):,} x {x.shape[1]} in {feature_s:.1f} s (cached once per dataset in the app)"
    )
    vic, batch = _vicreg_step(3 if quick else 10)
    print(f"peer: one vicreg training step at batch {batch} takes {1000 * vic:.0f} ms here (median)")
    threads = mining_threads()
    print(f"mining, faiss on 1 and on 2 threads, interleaved (a run would mine on {threads or 'one per core'} "
          "now: 1 while the load average is at least the cores):")  # fmt: skip
    for i, (k, quantile, mutual) in enumerate(
        ((5, 0.0, False), (5, 0.5, False), (5, 0.0, True), (10, 0.0, True))
    ):
        both = _mine_both(x, k, quantile, mutual, (1, 2) if i % 2 == 0 else (2, 1))
        (s1, p1), (s2, p2) = both[1], both[2]
        same = (
            "identical"
            if np.array_equal(p1.idx, p2.idx)
            else f"{(p1.idx != p2.idx).any(1).mean():.4%} of rows differ"
        )
        met = {t: "met" if s <= MINING_TARGET else "MISSED" for t, s in ((1, s1), (2, s2))}
        print(f"  k = {k}, quantile {quantile:g}, mutual {'on' if mutual else 'off'}: 1 thread {s1:.2f} s ({met[1]}), "
              f"2 threads {s2:.2f} s ({met[2]}), target {MINING_TARGET:g} s; = {s1 / vic:.0f} vicreg steps on 1 thread; "
              f"partners {same}; pair precision {pair_precision(p1, y):.3f}, coverage {p1.coverage:.3f}")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0
