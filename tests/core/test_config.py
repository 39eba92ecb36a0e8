"""TrainConfig: one place checks every value; run ids ignore what a method does not use."""

import pytest

from lab.core.config import TrainConfig
from lab.store.runs import run_id


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(dataset="digitz"), "Unknown dataset 'digitz'. Choose one of"),
        (
            dict(method="simclrr"),
            "Unknown method 'simclrr'. Choose one of: supervised, simclr, supcon, joint",
        ),
        (dict(encoder="vit"), "Unknown encoder 'vit'. Choose one of: cnn, resnet18"),
        (dict(aug_strength=1.2), r"aug_strength must be in \[0, 1\]"),
        (dict(embedding_size=1), "embedding_size must be 2 to 2048"),
        (dict(batch_size=1), "batch_size must be at least 2"),
        (dict(temperature=0.0), "temperature must be above 0"),
        (dict(alpha=-0.1), r"alpha must be in \[0, 1\]"),
    ],
)
def test_bad_config_values_are_refused_before_training(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**bad)


def test_run_id_ignores_settings_the_method_does_not_use():
    a = TrainConfig(method="simclr", alpha=0.1)
    b = TrainConfig(method="simclr", alpha=0.9, device="cpu")
    assert run_id(a) == run_id(b)
    assert run_id(TrainConfig(method="joint", alpha=0.1)) != run_id(TrainConfig(method="joint", alpha=0.9))
    assert run_id(a) != run_id(TrainConfig(method="simclr", embedding_size=64))
