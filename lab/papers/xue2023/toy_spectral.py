"""The linear toys' machinery: spectral contrastive losses, their closed form over the augmentations,
full-batch gradient descent on many linear encoders at once, and a batched logistic-regression probe.

Xue, Joshi, Gan, Chen & Mirzasoleiman 2023 (arXiv 2305.16536) analyse the spectral contrastive loss of
HaoChen et al. 2021 with a linear encoder f(x) = Wx [P]:

    L_UCL = −2 E[f(a)ᵀf(a')] + E[(f(a)ᵀf(a''))²]     a, a': two views of one example, a'': of another
    L_SCL   the same with a' a view of any example of a's class (the example itself included)

The joint loss is the lab's weighting, alpha · L_SCL + (1 − alpha) · L_UCL (lab.core.losses). Here the
negative a'' is an independent draw from the training set, so over n examples the mean runs over all n²
pairs (i, j), i = j included [L: the spec's "another example" leaves out the n pairs i = j, a 1/n
difference]. Given its example, each view is drawn independently, so the expectation over the
augmentations has a closed form in three d × d matrices [D] (checked against sampled views in the tests):

    E[L] = −2 tr(W C Wᵀ) + ⟨W T Wᵀ, W T₂ Wᵀ⟩
    C  = mean over the positive pairs of E[a a'ᵀ] (symmetrised),  T = mean E[a aᵀ] over examples (view 1),
    T₂ = the same for view 2,   ∂E[L]/∂W = −4 W C + 2 (W T₂ Wᵀ) W T + 2 (W T Wᵀ) W T₂.

docs/science.md, "Xue 2023" (the linear toys), after the lab's spec (section 4).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

PROGRESS_EVERY = 100  # steps between progress reports and stop checks
STABLE_LR = 0.2  # GD runs at lr ≤ STABLE_LR / λ_max(T); the spec's 0.01 diverges above about 0.5 / λ_max [D]


# ---------------------------------------------------------------- the losses on sampled views
def _negatives(f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
    """mean over all n² pairs (i, j) of (f1_i ᵀ f2_j)², through the p × p Gram matrices (n p², not n² p)."""
    n = f1.shape[-2]
    return ((f1.mT @ f1) * (f2.mT @ f2)).sum((-2, -1)) / n**2


def spectral_ucl(f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
    """Spectral unsupervised contrastive loss [P] (HaoChen et al. 2021; Xue et al. 2023, Sec. 3).

    f1, f2: [..., n, p] the embeddings of view 1 and view 2 of the same n examples (row i of each is one
    positive pair). Negatives: every pair (i, j), i = j included [L] (module docstring). Returns [...].

        >>> spectral_ucl(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]))  # −2·1 + 1² = −1
        tensor(-1.)
    """
    return -2 * (f1 * f2).sum(-1).mean(-1) + _negatives(f1, f2)


def class_pair_mean(f1: torch.Tensor, f2: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """mean of f1_iᵀ f2_j over the pairs (i, j) with labels[i] == labels[j], i = j included.

    f1, f2: [..., n, p]; labels: [n] integer class ids. Through the class sums: Σ_c (Σ_i f1_i)ᵀ(Σ_j f2_j)."""
    onehot = torch.nn.functional.one_hot(labels.long()).to(f1.dtype)  # [n, C]
    sums1, sums2 = onehot.T @ f1, onehot.T @ f2  # [..., C, p]
    return (sums1 * sums2).sum((-2, -1)) / (onehot.sum(0) ** 2).sum()


def spectral_scl(f1: torch.Tensor, f2: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Spectral supervised contrastive loss [P] (Xue et al. 2023, Sec. 4): positives are every pair of
    the same class, its own twin included; negatives as in spectral_ucl. f1, f2: [..., n, p]; labels [n]."""
    return -2 * class_pair_mean(f1, f2, labels) + _negatives(f1, f2)


def spectral_joint(f1: torch.Tensor, f2: torch.Tensor, labels: torch.Tensor, alpha: float) -> torch.Tensor:
    """alpha · L_SCL + (1 − alpha) · L_UCL, the lab's joint weighting [P, weighting form L]: alpha = 1 is
    L_SCL, alpha = 0 is L_UCL."""
    return alpha * spectral_scl(f1, f2, labels) + (1 - alpha) * spectral_ucl(f1, f2)


# ---------------------------------------------------------------- the closed form and its gradient
def expected_loss(w: torch.Tensor, c: torch.Tensor, t: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
    """E[L] = −2 tr(W C Wᵀ) + ⟨W T Wᵀ, W T₂ Wᵀ⟩ [D]. w: [m, p, d]; c, t2: [m, d, d]; t: [d, d]. Returns [m]."""
    wt, wt2 = w @ t, w @ t2
    return -2 * ((w @ c) * w).sum((-2, -1)) + ((wt @ w.mT) * (wt2 @ w.mT)).sum((-2, -1))


def expected_gradient(w: torch.Tensor, c: torch.Tensor, t: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
    """∂E[L]/∂W = −4 W C + 2 (W T₂ Wᵀ) W T + 2 (W T Wᵀ) W T₂ [D], shapes as expected_loss; t may be the
    diagonal [d] of a diagonal T (the toys rotate into T's eigenbasis, so W T is a scaling)."""
    wt = w * t if t.ndim == 1 else w @ t
    wt2 = w @ t2
    return -4 * (w @ c) + 2 * (wt2 @ w.mT) @ wt + 2 * (wt @ w.mT) @ wt2


class ToyDiverged(ValueError):
    """Gradient descent left the finite numbers: the settings ask for a step too large."""


@dataclass(frozen=True)
class Group:
    """Models trained together, in T's eigenbasis (T = diag(t)). w0: [m, P, d]; a model of p < P rows has
    zero rows below them, and zero rows stay zero under this gradient.

    Either dense: c and t2 [m, d, d]. Or structured (t2 None, so T₂ = T): c [m, d] is the diagonal of C
    and low = (L, R), each [m, d, r], adds the low-rank part (L Rᵀ + R Lᵀ) / 2 (the class sums of
    L_SCL). A structured step costs 2 P² d instead of 2 P d² + 4 P² d.
    """

    w0: torch.Tensor
    c: torch.Tensor
    t2: torch.Tensor | None = None
    low: tuple[torch.Tensor, torch.Tensor] | None = None

    def __post_init__(self):  # a dense group multiplies by C and T₂ in one product
        both = None if self.t2 is None else torch.cat([self.c, self.t2], -1)
        object.__setattr__(self, "_c_t2", both)

    def stepper(self, t: torch.Tensor, lr: float) -> Callable[[torch.Tensor], torch.Tensor]:
        """W ↦ W − lr · ∂E[L]/∂W (expected_gradient, using the group's structure; t: [d]), fused into a few
        batched products (baddbmm adds a product to a tensor in one call): half the calls of computing the
        gradient and then stepping, and the calls are most of a narrow model's time."""
        t = t[: self.w0.shape[-1]]  # a group on fewer coordinates trains on T's first ones
        if self.t2 is not None:
            return lambda w: self._dense_step(w, t, lr)
        keep = 1 + 4 * lr * self.c[:, None, :]  # W − lr·(−4 W C_diag) = W ⊙ (1 + 4 lr c)
        left, right = self.low if self.low is not None else (None, None)

        def step(w: torch.Tensor) -> torch.Tensor:
            wt = w * t
            out = w * keep
            if left is not None:  # + 4 lr · (W L Rᵀ + W R Lᵀ) / 2
                out = torch.baddbmm(
                    torch.baddbmm(out, w @ left, right.mT, alpha=2 * lr), w @ right, left.mT, alpha=2 * lr
                )
            return torch.baddbmm(out, wt @ w.mT, wt, alpha=-4 * lr)

        return step

    def _dense_step(self, w: torch.Tensor, t: torch.Tensor, lr: float) -> torch.Tensor:
        if 2 * w.shape[-2] > w.shape[-1]:  # wide W: through WᵀW, d³ + 2 P d² instead of 2 P d² + 4 P² d
            b = (self.t2 @ (w.mT @ w)) * t  # B = T₂ (WᵀW) T; ∂/∂W = W (−4 C + 2 (B + Bᵀ))
            return torch.baddbmm(w, w, -4 * self.c + 2 * (b + b.mT), alpha=-lr)
        wc, wt2 = (w @ self._c_t2).split(w.shape[-1], -1)
        wt = w * t
        out = torch.baddbmm(torch.add(w, wc, alpha=4 * lr), wt2 @ w.mT, wt, alpha=-2 * lr)
        return torch.baddbmm(out, wt @ w.mT, wt2, alpha=-2 * lr)

    def dense(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(C, T₂), each [m, d, d], for expected_loss; t: [d]."""
        if self.t2 is not None:
            return self.c, self.t2
        c = torch.diag_embed(self.c)
        if self.low is not None:
            left, right = self.low
            c = c + (left @ right.mT + right @ left.mT) / 2
        return c, torch.diag(t).expand_as(c)


def stable_lr(lr: float, t_top: float) -> float:
    """The spec's learning rate, lowered to STABLE_LR / λ_max(T) where a step that large would diverge
    (the toy with few examples and many easy dimensions) [L]."""
    return min(lr, STABLE_LR / t_top) if t_top > 0 else lr


def spectral_gd(groups: list[Group], t: torch.Tensor, lr: float, steps: int, every: int = 0,
                progress: Callable[[float], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:  # fmt: skip
    """Full-batch gradient descent on E[L] for every model of every group at once (the caller holds one
    torch thread). t: [d], the diagonal of T in its eigenbasis; a group of fewer columns trains on the
    first ones. every > 0: a copy of each group's W every `every` steps, step 0 and the last step included.

    Returns (the final W of each group, the snapshots of each group). Raises ToyDiverged on a
    non-finite W, InterruptedError when should_stop() says so.
    """
    ws, snaps = [g.w0.clone() for g in groups], [[] for _ in groups]
    steppers = [g.stepper(t, lr) for g in groups]
    for step in range(steps + 1):
        if every and (step % every == 0 or step == steps):
            for i, w in enumerate(ws):
                snaps[i].append(w.clone())
        if step == steps:
            break
        ws = [advance(w) for advance, w in zip(steppers, ws, strict=True)]
        if (step + 1) % PROGRESS_EVERY == 0:
            if not all(bool(torch.isfinite(w).all()) for w in ws):
                raise ToyDiverged(
                    f"Gradient descent diverged at step {step + 1} (lr {lr:g}); use a smaller lr."
                )
            if progress is not None:
                progress((step + 1) / steps)
            if should_stop is not None and should_stop():
                raise InterruptedError("The toy run was stopped.")
    if not all(bool(torch.isfinite(w).all()) for w in ws):
        raise ToyDiverged(f"Gradient descent diverged (lr {lr:g}); use a smaller lr.")
    return ws, snaps


def small_init(gen: torch.Generator, rows: int, d: int, scale: float) -> torch.Tensor:
    """Rows of norm ≈ scale: entries N(0, scale² / d) [L: the spec's "init 1e-4" read as the size of a row]."""
    return torch.randn(rows, d, generator=gen) * (scale / math.sqrt(d))


# ---------------------------------------------------------------- the probe
def centred_scaled(fit: torch.Tensor, *others: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Embeddings centred on the fit set's mean and divided by one global factor, the fit set's root mean
    squared distance to it [L]: a representation whose classes collapsed keeps a tiny spread there, which
    the probe's penalty then cannot use. fit: [..., m, p]; others: [..., m', p] in the same units."""
    mean = fit.mean(-2, keepdim=True)
    scale = (fit - mean).pow(2).sum(-1).mean(-1).sqrt().clamp_min(1e-30)[..., None, None]
    return tuple((x - mean) / scale for x in (fit, *others))


def logistic_accuracy(fit_x: torch.Tensor, fit_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                      c: float = 1.0, iters: int = 30) -> torch.Tensor:  # fmt: skip
    """Accuracy of an L2-penalised logistic regression (sklearn's objective: penalty ‖w‖² / 2c, intercept
    free), fitted by Newton's method on many problems at once.

    fit_x: [K, m, q], fit_y: [K, m] in {0, 1}; test_x: [K, m', q], test_y: [K, m']. Returns [K].
    """
    k, m, q = fit_x.shape
    a = torch.cat([fit_x, torch.ones(k, m, 1, dtype=fit_x.dtype)], -1)
    penalty = torch.eye(q + 1, dtype=fit_x.dtype) / c
    penalty[-1, -1] = 0.0
    w = torch.zeros(k, q + 1, dtype=fit_x.dtype)
    for _ in range(iters):
        prob = torch.sigmoid((a @ w[..., None])[..., 0])
        grad = (a * (prob - fit_y)[..., None]).sum(1) + w @ penalty
        hess = (a.mT * (prob * (1 - prob))[:, None, :]) @ a + penalty + 1e-9 * torch.eye(q + 1)
        step = torch.linalg.solve(hess, grad[..., None])[..., 0]
        w = w - step
        if float(step.abs().max()) < 1e-7:
            break
    b = torch.cat([test_x, torch.ones(k, test_x.shape[1], 1, dtype=fit_x.dtype)], -1)
    return (((b @ w[..., None])[..., 0] > 0).to(test_y.dtype) == test_y).float().mean(-1)
