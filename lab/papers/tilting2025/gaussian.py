"""Gaussian pairs and the closed forms of Baptista, Stuart & Tran 2025 for linear encoders [D].

μ = N(0, C) over (u, v); linear encoders g_u(u) = Gu, g_v(v) = Hv with n_e rows, so the similarity
is s(u, v) = uᵀAv with A = GᵀH of rank ≤ n_e (τ = 1). M = C_uu^{-1/2} C_uv C_vv^{-1/2} = U Σ Vᵀ: its
singular values are the canonical correlations. ../shared/spec/ALGORITHMS.md section 6 and
docs/science.md, "Baptista, Stuart & Tran 2025". Plain numpy, float64.

The model ν(du, dv) ∝ exp(s(u, v)) μ_u(du) μ_v(dv) with s = uᵀAv − ½uᵀB_u u − ½vᵀB_v v is Gaussian
with precision [[C_uu⁻¹ + B_u, −A], [−Aᵀ, C_vv⁻¹ + B_v]]; B = 0 is the bilinear tilt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import subspace_angles

CONDITIONAL_LOSSES = ("two-sided", "u|v", "v|u")


@dataclass(frozen=True)
class GaussianPair:
    """μ = N(0, cov) over (u, v), u the first d_u coordinates. Checked: symmetric, positive definite."""

    cov: np.ndarray  # [d_u + d_v, d_u + d_v]
    d_u: int

    def __post_init__(self):
        c = np.asarray(self.cov, dtype=np.float64)
        object.__setattr__(self, "cov", c)
        if c.ndim != 2 or c.shape[0] != c.shape[1] or not 0 < self.d_u < c.shape[0]:
            raise ValueError(f"The covariance must be square with u and v both non-empty; got {c.shape}, d_u = {self.d_u}.")  # fmt: skip
        if not np.allclose(c, c.T):
            raise ValueError("The covariance must be symmetric.")
        low = float(np.linalg.eigvalsh(c).min())
        if low <= 1e-9 * max(1.0, float(np.abs(c).max())):
            raise ValueError(f"The covariance is not positive definite (smallest eigenvalue {low:.2g}): some "
                             "direction has no variance. Raise the noise above 0.")  # fmt: skip

    @property
    def d_v(self) -> int:
        return self.cov.shape[0] - self.d_u

    @property
    def c_uu(self) -> np.ndarray:
        return self.cov[: self.d_u, : self.d_u]

    @property
    def c_vv(self) -> np.ndarray:
        return self.cov[self.d_u :, self.d_u :]

    @property
    def c_uv(self) -> np.ndarray:
        return self.cov[: self.d_u, self.d_u :]


def example_pair() -> GaussianPair:
    """The spec's 2-D example: C = [[1.5, 1], [1, 1.5]], canonical correlation 2/3 [D]."""
    from lab.papers.tilting2025.constants import EXAMPLE_COV

    return GaussianPair(np.array(EXAMPLE_COV), d_u=1)


def low_rank_pair(d_u: int, d_v: int, rank: int, noise: float, seed: int = 0) -> GaussianPair:
    """w ~ N(0, I_rank), u = Pw + ε_u, v = Qw + ε_v, ε ~ N(0, noise² I) [D demo; P, Q ~ N(0, 1/rank) L].

    Raises ValueError when the rank exceeds a dimension or the covariance is not positive definite."""
    if min(d_u, d_v) < 1 or rank < 1:
        raise ValueError(
            f"Dimensions and rank must be at least 1; got d_u = {d_u}, d_v = {d_v}, rank = {rank}."
        )
    if rank > min(d_u, d_v):
        raise ValueError(f"The shared rank ({rank}) cannot exceed the dimensions (d_u = {d_u}, d_v = {d_v}); "
                         f"choose a rank of at most {min(d_u, d_v)}.")  # fmt: skip
    if noise < 0:
        raise ValueError(f"The noise must be at least 0; got {noise}.")
    rng = np.random.default_rng(seed)
    p = rng.normal(size=(d_u, rank)) / np.sqrt(rank)
    q = rng.normal(size=(d_v, rank)) / np.sqrt(rank)
    f = np.vstack([p, q])
    return GaussianPair(f @ f.T + noise**2 * np.eye(d_u + d_v), d_u=d_u)


def sym_power(c: np.ndarray, power: float) -> np.ndarray:
    """C^power of a symmetric positive definite matrix (e.g. −½ for whitening)."""
    w, q = np.linalg.eigh(c)
    return (q * w**power) @ q.T


@dataclass(frozen=True)
class Canonical:
    """M = C_uu^{-1/2} C_uv C_vv^{-1/2} = U diag(sigma) Vᵀ, sigma descending (the canonical correlations)."""

    u: np.ndarray  # [d_u, m], m = min(d_u, d_v)
    sigma: np.ndarray  # [m]
    v: np.ndarray  # [d_v, m]


def canonical(pair: GaussianPair) -> Canonical:
    m = sym_power(pair.c_uu, -0.5) @ pair.c_uv @ sym_power(pair.c_vv, -0.5)
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    return Canonical(u, s, vt.T)


def shrinkage(sigma):
    """h(σ) = (√(1 + 4σ²) − 1) / (2σ), h(0) = 0: what the joint loss makes of a canonical correlation [D]."""
    s = np.asarray(sigma, dtype=np.float64)
    safe = np.where(s > 0, s, 1.0)
    return np.where(s > 0, (np.sqrt(1 + 4 * safe**2) - 1) / (2 * safe), 0.0)


def shared_rank(pair: GaussianPair, tol: float = 1e-8) -> int:
    return int((canonical(pair).sigma > tol).sum())


@dataclass(frozen=True)
class Tilt:
    """s(u, v) = uᵀAv − ½uᵀB_u u − ½vᵀB_v v (B = 0: bilinear)."""

    a: np.ndarray  # [d_u, d_v]
    b_u: np.ndarray  # [d_u, d_u]
    b_v: np.ndarray  # [d_v, d_v]

    @staticmethod
    def bilinear(a: np.ndarray) -> Tilt:
        a = np.asarray(a, dtype=np.float64)
        return Tilt(a, np.zeros((a.shape[0],) * 2), np.zeros((a.shape[1],) * 2))


def optimal_tilt(pair: GaussianPair, n_e: int, loss: str, tilt: str) -> Tilt | None:
    """The population minimiser of a loss over tilts of rank ≤ n_e [D], or None where none is known.

    bilinear, conditional losses (two-sided or one-sided: the same population loss here):
        A* = C_uu^{-1/2} (M)_r C_vv^{-1/2};
    bilinear, joint: A* = C_uu^{-1/2} U_r h(Σ_r) V_rᵀ C_vv^{-1/2};
    quadratic, any loss, n_e ≥ the shared rank: the tilt that makes ν = μ (A = −P_uv, B_u = P_uu − C_uu⁻¹,
    B_v likewise, P = C⁻¹), so the conditionals are matched exactly; a one-sided loss leaves the other
    side's B at 0 (u|v: B_v = 0), which changes neither its loss nor the conditional it fits.
    """
    cc, r = canonical(pair), min(n_e, len(canonical(pair).sigma))
    wu, wv = sym_power(pair.c_uu, -0.5), sym_power(pair.c_vv, -0.5)
    if tilt == "bilinear":
        sig = cc.sigma[:r] if loss in CONDITIONAL_LOSSES else shrinkage(cc.sigma[:r])
        return Tilt.bilinear(wu @ (cc.u[:, :r] * sig) @ cc.v[:, :r].T @ wv)
    if n_e < shared_rank(pair):
        return None
    p, d = np.linalg.inv(pair.cov), pair.d_u
    b_u, b_v = p[:d, :d] - np.linalg.inv(pair.c_uu), p[d:, d:] - np.linalg.inv(pair.c_vv)
    # A one-sided loss does not see the other side's B (its gradient is exactly 0): it stays at its start, 0.
    return Tilt(-p[:d, d:], 0 * b_u if loss == "v|u" else b_u, 0 * b_v if loss == "u|v" else b_v)


# ---------------------------------------------------------------- the model's conditionals and marginals
@dataclass(frozen=True)
class Conditional:
    """A Gaussian conditional x | y = N(mean @ y, cov)."""

    mean: np.ndarray  # [d_x, d_y]
    cov: np.ndarray  # [d_x, d_x]


def true_conditional(pair: GaussianPair, side: str = "u|v") -> Conditional:
    cxx, cyy, cxy = (
        (pair.c_uu, pair.c_vv, pair.c_uv) if side == "u|v" else (pair.c_vv, pair.c_uu, pair.c_uv.T)
    )
    k = cxy @ np.linalg.inv(cyy)
    return Conditional(k, cxx - k @ cxy.T)


def model_conditional(pair: GaussianPair, t: Tilt, side: str = "u|v") -> Conditional | None:
    """u|v (or v|u) under ν: precision C_uu⁻¹ + B_u, mean (C_uu⁻¹ + B_u)⁻¹ A v [D]. None when that precision
    is not positive definite (the model has no such conditional)."""
    cxx, bx, a = (pair.c_uu, t.b_u, t.a) if side == "u|v" else (pair.c_vv, t.b_v, t.a.T)
    prec = np.linalg.inv(cxx) + bx
    if np.linalg.eigvalsh((prec + prec.T) / 2).min() <= 0:
        return None
    cov = np.linalg.inv(prec)
    return Conditional(cov @ a, cov)


def model_marginal(pair: GaussianPair, t: Tilt, side: str = "u") -> np.ndarray | None:
    """The model ν's marginal covariance of u (or v); None when ν is not a proper Gaussian."""
    d = pair.d_u
    prec = np.block([[np.linalg.inv(pair.c_uu) + t.b_u, -t.a], [-t.a.T, np.linalg.inv(pair.c_vv) + t.b_v]])
    if np.linalg.eigvalsh((prec + prec.T) / 2).min() <= 0:
        return None
    cov = np.linalg.inv(prec)
    return cov[:d, :d] if side == "u" else cov[d:, d:]


def conditional_errors(pair: GaussianPair, t: Tilt, side: str = "u|v") -> tuple[float, float]:
    """(mean error, covariance error) of the model's conditional against the truth, both relative:
    ‖(K_model − K_true) C_yy^{1/2}‖_F / ‖K_true C_yy^{1/2}‖_F (the mean's error averaged over y ~ μ) and
    ‖Σ_model − Σ_true‖_F / ‖Σ_true‖_F [L measures]. (inf, inf) when the model has no such conditional."""
    model, truth = model_conditional(pair, t, side), true_conditional(pair, side)
    if model is None:
        return float("inf"), float("inf")
    root = sym_power(pair.c_vv if side == "u|v" else pair.c_uu, 0.5)
    mean = np.linalg.norm((model.mean - truth.mean) @ root) / max(np.linalg.norm(truth.mean @ root), 1e-12)
    cov = np.linalg.norm(model.cov - truth.cov) / np.linalg.norm(truth.cov)
    return float(mean), float(cov)


def whitened_spectrum(pair: GaussianPair, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SVD of C_uu^{1/2} A C_vv^{1/2}: (left vectors, singular values, right vectors). Every optimal tilt
    above shares M's singular vectors; its singular values are σ (conditional losses), h(σ) (joint)
    or σ/(1 − σ²) (quadratic) [D]."""
    u, s, vt = np.linalg.svd(sym_power(pair.c_uu, 0.5) @ a @ sym_power(pair.c_vv, 0.5), full_matrices=False)
    return u, s, vt.T


def subspace_angle(pair: GaussianPair, a: np.ndarray, k: int) -> float:
    """The largest principal angle, in degrees, between the top-k canonical directions and the learned
    ones (the top-k singular vectors of the whitened A), u and v sides, the larger [L measure]."""
    if k < 1:
        return 0.0
    cc = canonical(pair)
    u, _, v = whitened_spectrum(pair, a)
    angles = np.concatenate([subspace_angles(u[:, :k], cc.u[:, :k]), subspace_angles(v[:, :k], cc.v[:, :k])])
    return float(np.degrees(angles.max()))


# ---------------------------------------------------------------- population losses, bilinear tilt
def population_conditional_loss(pair: GaussianPair, a: np.ndarray) -> float:
    """L_cond(A) = −tr(A C_vu) + ½ tr(Aᵀ C_uu A C_vv): E_{u'} e^{u'ᵀAv} = exp(½ vᵀAᵀC_uuAv) [D]."""
    return float(-np.trace(a @ pair.c_uv.T) + 0.5 * np.trace(a.T @ pair.c_uu @ a @ pair.c_vv))


def population_joint_loss(pair: GaussianPair, a: np.ndarray) -> float:
    """L_joint(A) = −tr(A C_vu) − ½ log det(I − C_vv^{1/2}AᵀC_uuAC_vv^{1/2}); inf when E e^s diverges [D]."""
    root = sym_power(pair.c_vv, 0.5)
    w = np.linalg.eigvalsh(root @ a.T @ pair.c_uu @ a @ root)
    if w.max() >= 1:
        return float("inf")
    return float(-np.trace(a @ pair.c_uv.T) - 0.5 * np.log1p(-w).sum())
