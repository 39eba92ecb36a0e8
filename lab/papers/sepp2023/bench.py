"""`python -m lab bench-paper sepp2023 [--quick]`: SePP's speed target, mining partners for 60,000 images
within 10 s, beside the time to make the sampler's features (PCA-64 of Fashion-MNIST's pixels, or a
clustered stand-in of the same shape when the dataset is not here). docs/performance.md holds the figures.
"""

from __future__ import annotations

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


def main(quick: bool = False) -> int:
    from lab.papers.sepp2023.partners import mine_partners, pair_precision
    from lab.store.provenance import machine_line

    print(f"sepp2023 benchmark · {machine_line()}")
    n = 10_000 if quick else 60_000
    x, y, what, feature_s = _features(n)
    print(
        f"sampler features: {what}, {len(x):,} x {x.shape[1]} in {feature_s:.1f} s (cached once per dataset in the app)"
    )
    for k, quantile, mutual in ((5, 0.0, False), (5, 0.5, False), (5, 0.0, True), (10, 0.0, True)):
        t = time.perf_counter()
        p = mine_partners(x, k, quantile, mutual)
        s = time.perf_counter() - t
        target = f"target {MINING_TARGET:g} s: {'met' if s <= MINING_TARGET else 'MISSED'}"
        print(f"mining k = {k}, quantile {quantile:g}, mutual {'on' if mutual else 'off'}: {s:.2f} s ({target}); "
              f"pair precision {pair_precision(p, y):.3f}, coverage {p.coverage:.3f}")  # fmt: skip
    return 0
