"""The two GCN probes and their training loop, on a fixed normalised graph (lab.measures.probes.gcn).

Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229): the
label-embedding GCN [P]; Kipf & Welling 2017 on frozen features [L]. docs/science.md, "Probes".
A training step takes its loss on a few rows only (the hidden labels, or the fit labels), so it
multiplies by those rows of the graph, not all of it [L]: the same loss and gradients as the full
product (tests/measures/test_gcn_fit.py), without the N x N work on the rows the loss never reads.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from lab.measures.features import l2_normalize, torch_threads

GCN_VARIANTS = ("labels", "features")


def _scipy_csr(adj: torch.Tensor) -> sp.csr_matrix:
    """A torch sparse CSR tensor as a scipy CSR matrix over the same arrays."""
    parts = (adj.values().numpy(), adj.col_indices().numpy(), adj.crow_indices().numpy())
    return sp.csr_matrix(parts, shape=adj.shape)


class Graph:
    """A symmetric normalised adjacency [N, N] (dense, or torch sparse CSR) and blocks of its rows."""

    def __init__(self, adj: torch.Tensor):
        self.adj = adj
        self._csr = _scipy_csr(adj) if adj.layout == torch.sparse_csr else None

    def rows(self, idx: torch.Tensor):
        """adj[idx]: a dense tensor [m, N] or a scipy CSR block [m, N]."""
        return self.adj[idx] if self._csr is None else self._csr[idx.numpy()]


def _block_mm(block, x: torch.Tensor, transpose: bool = False) -> torch.Tensor:
    """block @ x (or block^T @ x) for a row block from Graph.rows."""
    if isinstance(block, torch.Tensor):
        return (block.T if transpose else block) @ x
    b = block.T if transpose else block
    return torch.from_numpy(np.asarray(b @ x.detach().numpy(), dtype=np.float32))


class _SymmetricMatmul(torch.autograd.Function):
    """adj @ h for a symmetric adj (dense or sparse): the backward pass is adj @ grad too."""

    @staticmethod
    def forward(ctx, adj: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        ctx.adj = adj
        return adj @ h

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, ctx.adj @ grad


class _RowsMatmul(torch.autograd.Function):
    """adj[rows] @ h for a row block; the backward pass is adj[rows]^T @ grad."""

    @staticmethod
    def forward(ctx, block, h: torch.Tensor) -> torch.Tensor:
        ctx.block = block
        return _block_mm(block, h)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, _block_mm(ctx.block, grad.contiguous(), transpose=True)


def _propagate(graph: Graph, z: torch.Tensor, block=None) -> torch.Tensor:
    """adj @ z, or only the block's rows of it."""
    return _SymmetricMatmul.apply(graph.adj, z) if block is None else _RowsMatmul.apply(block, z)


class LabelGCN(nn.Module):
    """The paper's GCN on label embeddings [P]: layers H' = A H Θ + s·H Θ + b (+H when shapes match).

    Zhang, Lu & Xuan 2023 (repo imageComponent/GCN.py): 16-d embeddings of the known labels with
    an extra "unknown" token, 2 layers, BatchNorm + SELU between, self-loop weight s starts at 0.
    """

    def __init__(self, n_classes: int, dim: int = 16):
        super().__init__()
        self.n_classes = n_classes
        self.embed = nn.Embedding(n_classes + 1, dim)  # row n_classes = "unknown"
        self.lin1, self.lin2 = nn.Linear(dim, dim), nn.Linear(dim, n_classes)
        self.self1, self.self2 = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
        self.norm = nn.BatchNorm1d(dim, track_running_stats=False)  # full-graph batch statistics
        for lin in (self.lin1, self.lin2):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def token_counts(self, graph: Graph, tokens: torch.Tensor) -> torch.Tensor:
        """A onehot(tokens) [N, C+1]: A H0 = (A onehot) E, a product that needs no backward pass."""
        with torch.no_grad():
            return graph.adj @ F.one_hot(tokens, self.n_classes + 1).float()

    def forward(self, graph: Graph, tokens: torch.Tensor, counts: torch.Tensor, block=None, rows=None):
        """Logits [N, C], or [m, C] for the block's rows (block = graph.rows(rows)).
        tokens [N]; counts = token_counts(graph, tokens)."""
        h0 = self.embed(tokens)
        h1 = F.linear(counts @ self.embed.weight + self.self1 * h0, self.lin1.weight, self.lin1.bias) + h0
        z = F.selu(self.norm(h1)) @ self.lin2.weight.T
        return _propagate(graph, z, block) + self.self2 * (z if rows is None else z[rows]) + self.lin2.bias


class FeatureGCN(nn.Module):
    """Kipf & Welling 2017 two-layer GCN on frozen features h [L, the lab's "features" variant]."""

    def __init__(self, d: int, n_classes: int, hidden: int = 64, dropout: float = 0.5):
        super().__init__()
        self.lin1, self.lin2, self.dropout = (
            nn.Linear(d, hidden),
            nn.Linear(hidden, n_classes, bias=False),
            dropout,
        )
        self.bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, graph: Graph, ax: torch.Tensor, block=None) -> torch.Tensor:
        """Logits [N, C] (or the block's rows); ax = A X, precomputed [N, d]."""
        h = F.dropout(F.relu(self.lin1(ax)), self.dropout, self.training)
        return _propagate(graph, self.lin2(h), block) + self.bias


def normalized_torch_csr(a: sp.csr_matrix) -> torch.Tensor:
    """D^-1/2 A D^-1/2 of a symmetric scipy matrix A, as a float32 torch sparse CSR tensor."""
    d = 1 / np.sqrt(np.maximum(np.asarray(a.sum(1)).ravel(), 1e-300))
    a = sp.csr_matrix(sp.diags(d) @ a @ sp.diags(d))
    a.sort_indices()  # scipy built it, so the CSR invariants hold: no need for torch's checks
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
        return torch.sparse_csr_tensor(
            torch.from_numpy(a.indptr.astype(np.int64)),
            torch.from_numpy(a.indices.astype(np.int64)),
            torch.from_numpy(a.data.astype(np.float32)),
            a.shape,
            check_invariants=False,
        )


def _with_self_loops(adj: torch.Tensor) -> torch.Tensor:
    """Kipf-Welling renormalisation D~^-1/2 (A + I) D~^-1/2 of a normalised adjacency A [L]."""
    n = adj.shape[0]
    if adj.layout == torch.strided:
        a = adj + torch.eye(n)
        d = a.sum(1).rsqrt()
        return a * d[:, None] * d[None, :]
    return normalized_torch_csr(_scipy_csr(adj) + sp.eye(n, format="csr"))


class _LabelSteps:
    """The label variant's steps [P]: hide each fit label with probability p ~ U(0.05, 0.5), CE on
    the hidden ones. Hiding rows H changes A onehot(tokens) by A[:, H] (e_unknown - onehot(y_H)),
    and A[:, H] = A[H]^T, so a step needs only the rows H of the graph [L]."""

    def __init__(self, graph: Graph, y: torch.Tensor, fit: torch.Tensor, n_classes: int, gen):
        self.graph, self.y, self.fit, self.n_classes, self.gen = graph, y, fit, n_classes, gen
        self.model = LabelGCN(n_classes)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=0.1)
        self.inputs = torch.where(fit, y, n_classes)  # evaluation input: every fit label shown
        self.counts = self.model.token_counts(graph, self.inputs)

    def loss(self) -> torch.Tensor:
        y, fit, gen = self.y, self.fit, self.gen
        hide = fit & (torch.rand(len(y), generator=gen) < 0.05 + 0.45 * torch.rand(1, generator=gen))
        if not hide.any():
            hide[fit.nonzero()[torch.randint(int(fit.sum()), (1,), generator=gen)]] = True
        return F.cross_entropy(*self.logits_on(hide.nonzero().squeeze(1)))

    def logits_on(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [m, C] of these rows with their labels hidden, their labels [m])."""
        c = self.n_classes
        block = self.graph.rows(rows)
        delta = F.one_hot(torch.full_like(rows, c), c + 1).float() - F.one_hot(self.y[rows], c + 1).float()
        counts = self.counts + _block_mm(block, delta, transpose=True)
        tokens = self.inputs.clone()
        tokens[rows] = c
        return self.model(self.graph, tokens, counts, block, rows), self.y[rows]

    def evaluate(self) -> torch.Tensor:
        return self.model(self.graph, self.inputs, self.counts)


class _FeatureSteps:
    """The features variant's steps [L]: Adam lr 0.01, wd 5e-4, CE on the fit labels."""

    def __init__(self, graph: Graph, y: torch.Tensor, fit: torch.Tensor, n_classes: int, features):
        self.graph, self.y = Graph(_with_self_loops(graph.adj)), y
        self.model = FeatureGCN(features.shape[1], n_classes)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=0.01, weight_decay=5e-4)
        self.inputs = self.graph.adj @ torch.from_numpy(l2_normalize(features))
        self.rows = fit.nonzero().squeeze(1)
        self.block = self.graph.rows(self.rows)

    def loss(self) -> torch.Tensor:
        return F.cross_entropy(self.model(self.graph, self.inputs, self.block), self.y[self.rows])

    def evaluate(self) -> torch.Tensor:
        return self.model(self.graph, self.inputs)


def fit_gcn(
    adj: torch.Tensor,
    node_labels: np.ndarray,
    val_rows: np.ndarray,
    n_classes: int,
    variant: str = "labels",
    features: np.ndarray | None = None,
    steps: int = 60,
    eval_every: int = 5,
    seed: int = 0,
    on_eval: Callable[[int, float, float], None] | None = None,
) -> tuple[np.ndarray, int, float]:
    """Train a GCN probe on a fixed graph; pick the step by accuracy on val_rows. Sees no test labels.

    Zhang, Lu & Xuan 2023 GCN probe [P] with the lab's selection rule [L]: val_rows are known
    train labels hidden from the input and the loss; the step with the best val accuracy wins
    (ties: lower val cross-entropy). "labels" [P]: AdamW lr 0.1; each step hides every fit label
    with probability p ~ U(0.05, 0.5) and takes CE on the hidden ones. "features" [L]: Kipf-Welling
    on features [N, d], Adam lr 0.01, wd 5e-4, CE on the fit labels.
    Runs on one torch thread (small tensor work is faster there when the other core is busy).
    adj: [N, N] normalised, symmetric (rld_graph); node_labels: [N] class index, -1 unknown (all
    test nodes: this function never sees their labels). on_eval(step, val_accuracy, train_loss) is
    called at every evaluation (progress, curves).
    Returns (predictions [N] at the selected step, selected step, its val accuracy).
    """
    if variant not in GCN_VARIANTS:
        raise ValueError(f"Unknown GCN variant '{variant}'. Choose one of: {', '.join(GCN_VARIANTS)}.")
    y = torch.as_tensor(node_labels, dtype=torch.long)
    val = torch.zeros(len(y), dtype=torch.bool)
    val[torch.as_tensor(val_rows, dtype=torch.long)] = True
    if (y[val] < 0).any() or len(val_rows) == 0:
        raise ValueError("val_rows must be a non-empty set of rows with known labels (node_labels >= 0).")
    if variant == "features" and (features is None or len(features) != len(y)):
        raise ValueError("the 'features' variant needs features [N, d] for every node of the graph.")
    fit = (y >= 0) & ~val
    with torch.random.fork_rng(), torch_threads(1):
        torch.manual_seed(seed)
        graph = Graph(adj)
        if variant == "labels":
            run = _LabelSteps(graph, y, fit, n_classes, torch.Generator().manual_seed(seed))
        else:
            run = _FeatureSteps(graph, y, fit, n_classes, features)
        best = ((-1.0, 0.0), 0, None)  # ((val accuracy, -val loss), step, predictions)
        for step in range(1, steps + 1):
            run.model.train()
            loss = run.loss()
            run.opt.zero_grad(set_to_none=True)
            loss.backward()
            run.opt.step()
            if step % eval_every == 0 or step == steps:
                run.model.eval()
                with torch.no_grad():
                    out = run.evaluate()
                pred = out.argmax(1)
                score = (
                    float((pred[val] == y[val]).float().mean()),
                    -float(F.cross_entropy(out[val], y[val])),
                )
                if on_eval is not None:
                    on_eval(step, score[0], float(loss))  # (step, val accuracy, train loss)
                if score > best[0]:
                    best = (score, step, pred.numpy().copy())
    return best[2], best[1], best[0][0]
