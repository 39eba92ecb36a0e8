"""SAG-VICReg's loss and method: omega = 0 is VICReg exactly, the walk invariance by hand, the warm-up,
the method's parameters and its refusals before training."""

from __future__ import annotations

import pytest
import torch

from lab.core.config import TrainConfig
from lab.core.methods import Step, get_method
from lab.core.vicreg import invariance, vicreg_loss
from lab.papers.sag2025.losses import (
    BatchWalks,
    batch_walks,
    omega_at,
    random_walk_invariance,
    sag_vicreg_loss,
)


def test_sag_vicreg_with_omega_zero_equals_vicreg_exactly():
    torch.manual_seed(0)
    y1, y2 = torch.randn(64, 32), torch.randn(64, 32)
    walks = batch_walks(y1, k=5, t=2, expected=False)
    assert torch.equal(sag_vicreg_loss(y1, y2, walks, 0.0), vicreg_loss(y1, y2))


def test_the_method_with_omega_zero_gives_vicregs_loss_on_the_same_batch():
    from lab.core.data import load_dataset
    from lab.core.train import build_model

    ds = load_dataset("digits")
    losses = []
    for method, extra in (("vicreg", {}), ("sag-vicreg", {"sag_omega": 0.0})):
        cfg = TrainConfig(dataset="digits", method=method, batch_size=64, **extra)
        torch.manual_seed(0)
        model = build_model(cfg, ds)
        m = get_method(method)
        state = m.setup(cfg, ds, torch.device("cpu")) if m.setup else None
        torch.manual_seed(1)
        views = [torch.rand(64, 1, 28, 28) for _ in range(2)]
        step = Step(model, views, ds.train_labels[:64], torch.arange(64), 50, 100, dict(cfg.params), state)
        losses.append(m.loss(step))
    assert torch.equal(losses[0], losses[1])


def test_the_sampled_walk_term_pairs_view_one_with_the_endpoints_view_two():
    y1, y2 = torch.randn(6, 4), torch.randn(6, 4)
    ends = torch.tensor([1, 0, 3, 2, 5, 4])
    walks = BatchWalks(torch.stack([torch.arange(6), ends], 1), None)
    expected = ((y1 - y2[ends]) ** 2).sum(1).mean() / 4
    assert random_walk_invariance(y1, y2, walks).item() == pytest.approx(expected.item(), rel=1e-6)
    home = BatchWalks(torch.stack([torch.arange(6), torch.arange(6)], 1), None)
    assert random_walk_invariance(y1, y2, home).item() == pytest.approx(invariance(y1, y2).item())


def test_the_expected_walk_term_weights_every_endpoint_by_p_t():
    torch.manual_seed(2)
    y1, y2 = torch.randn(5, 3), torch.randn(5, 3)
    p_t = torch.softmax(torch.randn(5, 5), dim=1)
    by_hand = sum(p_t[i, j] * ((y1[i] - y2[j]) ** 2).sum() for i in range(5) for j in range(5)) / 5 / 3
    walks = BatchWalks(torch.zeros(5, 3, dtype=torch.long), p_t)
    assert random_walk_invariance(y1, y2, walks).item() == pytest.approx(by_hand.item(), rel=1e-5)
    identity = BatchWalks(walks.paths, torch.eye(5))
    assert random_walk_invariance(y1, y2, identity).item() == pytest.approx(
        invariance(y1, y2).item(), rel=1e-5
    )


def test_omega_is_off_then_ramps_then_holds():
    assert [omega_at(s, 100, 0.5) for s in (0, 9, 10, 15, 20, 99)] == [0.0, 0.0, 0.0, 0.25, 0.5, 0.5]


def test_sag_vicreg_is_registered_with_its_parameters():
    m = get_method("sag-vicreg")
    assert [p.name for p in m.params] == ["sag_k", "sag_t", "sag_omega", "sag_endpoint"] and not m.uses_labels
    cfg = TrainConfig(method="sag-vicreg")
    assert (cfg.param("sag_k"), cfg.param("sag_t"), cfg.param("sag_omega")) == (5, 2, 0.5)
    assert get_method("vicreg").params == ()


def test_bad_walk_settings_are_refused_before_training():
    with pytest.raises(ValueError, match="sag_k = 300 neighbours needs batches of more than 300 images"):
        TrainConfig(method="sag-vicreg", sag_k=300, batch_size=256)
    with pytest.raises(ValueError, match="batches hold 100"):
        TrainConfig(method="sag-vicreg", sag_k=100, subset=100, batch_size=256)
    with pytest.raises(ValueError, match="sag_t must be at least 1; got 0"):
        TrainConfig(method="sag-vicreg", sag_t=0)
    with pytest.raises(ValueError, match="sag_omega must be in"):
        TrainConfig(method="sag-vicreg", sag_omega=1.5)


@pytest.mark.trains
def test_a_sag_vicreg_run_records_its_walks_and_their_precision():
    from lab.core.train import train

    result = train(TrainConfig(dataset="digits", method="sag-vicreg", epochs=1, batch_size=256, sag_t=3))
    rec = result.method_metrics
    walks = torch.tensor(rec["walks"])
    assert walks.shape == (256, 4) and walks.min() >= 0 and walks.max() < 1442  # rows of the training set
    assert 0 <= rec["walk_precision"] <= 1 and len(rec["walk_precision_curve"]) == result.steps
    assert rec["walk_precision_last"] == rec["walk_precision_curve"][-1]
