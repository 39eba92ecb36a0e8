"""lab.core.methods: methods own their parameters. A method a paper registers, with parameters of its
own, reaches the config, the CLI and the trainer with no edit to any of them."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

import lab.papers
from lab.core import losses
from lab.core.config import TrainConfig
from lab.core.methods import ALPHA, TEMPERATURE, Method, Param, Step, all_methods, all_params, get_method
from lab.papers.paper import Paper


def test_every_method_declares_parameters_whose_defaults_pass_their_own_checks():
    for m in all_methods().values():
        for p in m.params:
            assert p.check(p.default) == p.default, (m.name, p.name)
            assert re.fullmatch(r"\[[PLD](, default [PLD])?\]", p.tag) and p.help, (m.name, p.name, p.tag)


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [(TEMPERATURE, 0.0, "temperature must be above 0"), (ALPHA, 1.5, r"alpha must be in \[0, 1\]"),
     (ALPHA, "x", "alpha must be a number"), (ALPHA, float("nan"), "finite")],
)  # fmt: skip
def test_a_parameter_out_of_range_is_named(param, value, message):
    with pytest.raises(ValueError, match=message):
        param.check(value)


def test_the_lab_methods_and_what_they_see():
    m = all_methods()
    assert list(m)[:4] == ["supervised", "simclr", "supcon", "joint"]
    assert m["supervised"].n_views == 1 and m["supervised"].uses_labels and m["supervised"].params == ()
    assert not m["simclr"].uses_labels and [p.name for p in m["joint"].params] == ["temperature", "alpha"]


def _views(n=8):
    g = torch.Generator().manual_seed(0)
    return [torch.rand(n, 1, 28, 28, generator=g) for _ in range(2)]


def test_joint_through_its_method_is_simclr_at_alpha_0_and_supcon_at_alpha_1():
    from lab.core.models import Encoder

    torch.manual_seed(0)
    model = Encoder("cnn", 1, 4, 16, 3).eval()  # eval: the same BatchNorm statistics for every call
    views, labels = _views(), torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])

    def loss(method, **params):
        m = get_method(method)
        return m.loss(
            Step(
                model,
                views,
                labels,
                torch.arange(8),
                0,
                1,
                {**{p.name: p.default for p in m.params}, **params},
            )
        )

    assert loss("joint", alpha=0.0).item() == pytest.approx(loss("simclr").item(), abs=1e-6)
    assert loss("joint", alpha=1.0).item() == pytest.approx(loss("supcon").item(), abs=1e-6)


LAM = Param("lam", 25.0, "weight of the toy invariance term", "[L]", low=0.0, step=1.0, ui_range=(0.0, 50.0))


def _toy_loss(s: Step) -> torch.Tensor:
    _, z = s.model(torch.cat(s.views))
    z1, z2 = z.chunk(2)
    s.log["gap"] = (z1 - z2).pow(2).mean().detach()  # a tensor: read back once, after training
    return s.params["lam"] * (z1 - z2).pow(2).mean() + losses.nt_xent(z1, z2, 0.5)


def _toy_head(features: int, p: int) -> nn.Module:
    return nn.Sequential(nn.Linear(features, 32), nn.ReLU(), nn.Linear(32, p))


def _toy_check(cfg) -> None:
    if cfg.param("lam") > 10 * cfg.batch_size:
        raise ValueError(f"lam ({cfg.param('lam')}) must be at most 10 x the batch size ({cfg.batch_size}).")


TOY = Method("toy-expander", "a toy method from a paper package", "[L]", False, 2, _toy_loss, (LAM,), _toy_head,
             check=_toy_check)  # fmt: skip


@pytest.fixture()
def toy_paper(monkeypatch):
    """A paper package that registers a method with a parameter and a projector of its own."""
    paper = Paper("toypaper", "A toy", "Nobody 2026", "tests only", methods=(TOY,))
    monkeypatch.setattr(lab.papers, "PAPERS", {**lab.papers.PAPERS, "toypaper": paper})
    return paper


def test_a_paper_method_reaches_the_config_the_cli_and_the_trainer_unchanged(toy_paper, capsys):
    from lab.__main__ import build_parser
    from lab.core.train import train

    assert all_params()["lam"] is LAM
    cfg = TrainConfig(dataset="digits", method="toy-expander", lam=3.0, subset=200, epochs=1, batch_size=64)
    assert cfg.param("lam") == 3.0 and cfg.key()["lam"] == 3.0 and "temperature" not in cfg.key()
    assert TrainConfig(method="toy-expander").param("lam") == 25.0  # the declared default
    with pytest.raises(ValueError, match="lam must be at least 0"):
        TrainConfig(method="toy-expander", lam=-1)
    with pytest.raises(ValueError, match=r"lam \(700.0\) must be at most 10 x the batch size \(64\)"):
        TrainConfig(method="toy-expander", lam=700, batch_size=64)  # the method's own check across fields
    args = build_parser().parse_args(["train", "--method", "toy-expander", "--lam", "7"])
    assert args.lam == 7.0
    result = train(cfg)
    assert isinstance(result.model.projector[0], nn.Linear) and result.model.projector[2].out_features == 128
    assert result.method_metrics["gap"] >= 0 and len(result.losses) == result.steps


def test_unknown_names_are_refused_and_another_methods_parameter_is_dropped():
    with pytest.raises(ValueError, match=r"Unknown config field\(s\) \['temprature'\]"):
        TrainConfig(temprature=0.2)
    assert TrainConfig(method="simclr", alpha=0.1).params == (("temperature", 0.2),)
    with pytest.raises(ValueError, match="Unknown method 'vicreg2'. Choose one of: supervised, simclr"):
        TrainConfig(method="vicreg2")
