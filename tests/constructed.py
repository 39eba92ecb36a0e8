"""Constructed data with known structure, for the measures' tests."""

import numpy as np


def clustered(n=300, d=16, classes=4, spread=1.0, seed=0):
    """n points [n, d] float32 around `classes` Gaussian centres (sd 3 apart, `spread` within), labels
    0..classes-1 in turn: tight, well-separated classes at a small spread, mixed at a large one."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, d)) * 3
    y = np.arange(n) % classes
    return (centres[y] + spread * rng.normal(size=(n, d))).astype(np.float32), y
