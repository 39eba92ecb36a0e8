"""The paper's 2-D toy point sets, where Relative Local Density stays high while CHS collapses.

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229),
docs/science.md, "Relative Local Density"; the Density page's first panel.
"""

from __future__ import annotations

import numpy as np

from lab.measures.density import calinski_harabasz, relative_local_density
from lab.papers.zhang2023.constants import RLD_TOY_TAU

TOY_KINDS = ("uniform", "gaussians", "micro-clusters", "rings", "lines")


def toy_clouds(
    kind: str, n_per_class: int = 300, n_classes: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The paper's 2-D toy point sets where RLD stays high while CHS collapses.

    Zhang, Lu & Xuan 2023, Sec. 3 known values [P] (5 x 300 points, tau = 0.05):
    uniform in [-1,1]^2 with random labels ~0.00; Gaussians sd 0.1, centres in [-1,1]^2 at
    least 0.5 apart ~0.79; 20 micro-clusters per class sd 0.01 ~0.72; rings r = 0.2(i+1),
    radial sd 0.01 ~0.75; lines through the origin at angle 2*pi*i/C (0.4*pi*i for C = 5;
    pi*i/C for even C), sd 0.05, ~0.74. Returns (x [C*n, 2] float32, labels [C*n] int64).
    """
    if kind not in TOY_KINDS:
        raise ValueError(f"Unknown toy '{kind}'. Choose one of: {', '.join(TOY_KINDS)}.")
    if n_per_class < 2 or n_classes < 2:
        raise ValueError(f"need n_per_class >= 2 and n_classes >= 2; got {n_per_class}, {n_classes}.")
    rng = np.random.default_rng(seed)
    m = n_per_class
    parts = []
    if kind == "gaussians":
        centres = np.empty((0, 2))
        for _ in range(100_000):
            if len(centres) == n_classes:
                break
            c = rng.uniform(-1, 1, 2)
            if len(centres) == 0 or np.linalg.norm(centres - c, axis=1).min() >= 0.5:
                centres = np.vstack([centres, c])
        else:
            raise ValueError(f"cannot place {n_classes} centres 0.5 apart in [-1,1]^2; use fewer classes.")
    for i in range(n_classes):
        if kind == "uniform":
            p = rng.uniform(-1, 1, (m, 2))
        elif kind == "gaussians":
            p = centres[i] + 0.1 * rng.standard_normal((m, 2))
        elif kind == "micro-clusters":
            p = rng.uniform(-1, 1, (20, 2))[np.arange(m) % 20] + 0.01 * rng.standard_normal((m, 2))
        elif kind == "rings":
            theta = rng.uniform(0, 2 * np.pi, m)
            r = 0.2 * (i + 1) + 0.01 * rng.standard_normal(m)
            p = r[:, None] * np.stack([np.cos(theta), np.sin(theta)], 1)
        else:  # lines
            angle = (2 if n_classes % 2 else 1) * np.pi * i / n_classes
            along = rng.uniform(-1, 1, m)[:, None] * np.array([np.cos(angle), np.sin(angle)])
            p = along + 0.05 * rng.standard_normal((m, 2))
        parts.append(p)
    return np.concatenate(parts).astype(np.float32), np.repeat(np.arange(n_classes), m)


def toy_scores(
    kind: str, tau: float = RLD_TOY_TAU, n_per_class: int = 300, seed: int = 0
) -> dict[str, float]:
    """RLD (on raw 2-D coordinates, normalize=False, as the paper) and CHS of one toy.

    Zhang, Lu & Xuan 2023, Sec. 3 [P]. Returns {"rld": ..., "chs": ...}.
    """
    x, y = toy_clouds(kind, n_per_class=n_per_class, seed=seed)
    rld = relative_local_density(x, y, tau, seed=seed, normalize=False).value
    return {"rld": rld, "chs": calinski_harabasz(x, y)}
