"""Tests for lab.measures.probes.gcn_fit: a training step that multiplies by only the rows its loss
reads gives the same logits and gradients as the full graph product, on dense and sparse graphs."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab.measures.probes.gcn import rld_graph
from lab.measures.probes.gcn_fit import Graph, _FeatureSteps, _LabelSteps

N_CLASSES = 3


@pytest.fixture(scope="module", params=["dense", "sparse"])
def problem(request):
    rng = np.random.default_rng(0)
    y = rng.integers(0, N_CLASSES, 240)
    x = (rng.normal(size=(N_CLASSES, 8))[y] + rng.normal(size=(240, 8))).astype(np.float32)
    adj = rld_graph(x, 0.2) if request.param == "dense" else rld_graph(x, 0.2, k=15, dense_max=0)
    labels = torch.as_tensor(np.where(np.arange(240) < 160, y, -1))  # the last 80 are test nodes
    return x, Graph(adj), labels, labels >= 0


def _grads(model, loss):
    return [g.clone() for g in torch.autograd.grad(loss, [p for p in model.parameters()], allow_unused=True)]


def _same(a, b):
    for u, v in zip(a, b, strict=True):
        assert (u is None) == (v is None)
        if u is not None:
            torch.testing.assert_close(u, v, atol=2e-5, rtol=1e-4)


def test_label_step_on_hidden_rows_equals_the_full_graph_product(problem):
    _, graph, y, fit = problem
    torch.manual_seed(0)
    steps = _LabelSteps(graph, y, fit, N_CLASSES, torch.Generator().manual_seed(0))
    rows = fit.nonzero().squeeze(1)[::3]  # hide a third of the fit labels
    logits, targets = steps.logits_on(rows)
    tokens = torch.where(fit, y, N_CLASSES)
    tokens[rows] = N_CLASSES
    full = steps.model(graph, tokens, graph.adj @ F.one_hot(tokens, N_CLASSES + 1).float())
    torch.testing.assert_close(logits, full[rows], atol=2e-5, rtol=1e-4)
    assert torch.equal(targets, y[rows])
    _same(
        _grads(steps.model, F.cross_entropy(logits, targets)),
        _grads(steps.model, F.cross_entropy(full[rows], targets)),
    )
    leaky = steps.model(graph, tokens, steps.counts)[rows]  # the hidden labels still counted by A onehot
    assert not torch.allclose(leaky, full[rows], atol=1e-3), "without the count correction the logits differ"


def test_feature_step_on_fit_rows_equals_the_full_graph_product(problem):
    x, graph, y, fit = problem
    torch.manual_seed(0)
    steps = _FeatureSteps(graph, y, fit, N_CLASSES, x)
    steps.model.eval()  # no dropout: both paths see the same hidden units
    fast = F.cross_entropy(steps.model(steps.graph, steps.inputs, steps.block), y[fit])
    slow = F.cross_entropy(steps.model(steps.graph, steps.inputs)[fit], y[fit])
    torch.testing.assert_close(fast, slow, atol=2e-5, rtol=1e-4)
    _same(_grads(steps.model, fast), _grads(steps.model, slow))
