"""bench-recipe's recipe flags: --set NAME=VALUE changes SimCLR only, typed and checked like the CLI's."""

import pytest

from lab.bench.recipe import _config, parse_sets
from lab.core.config import TrainConfig


def test_set_changes_simclr_only_and_types_values():
    sets = parse_sets(["batch_size=128", "temperature=0.3", "subset=1000"])
    simclr = _config("simclr", 2, sets)
    assert (simclr.batch_size, simclr.param("temperature"), simclr.subset, simclr.seed) == (128, 0.3, 1000, 2)
    assert _config("supervised", 2, sets).batch_size == TrainConfig(method="supervised").batch_size != 128


@pytest.mark.parametrize(
    "items, message",
    [(["batch_size"], "NAME=VALUE"), (["batch_size=big"], "batch_size must be of type int"),
     (["widht=32"], "Unknown config field"), (["temperature=-1"], "temperature")],
)  # fmt: skip
def test_bad_set_is_refused_by_name(items, message):
    with pytest.raises(ValueError, match=message):
        _config("simclr", 0, parse_sets(items))
