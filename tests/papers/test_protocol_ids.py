"""The paper protocols pin their recipe (lab.core.config.PROTOCOL_RECIPE): the runs they train are the
ones docs/reproduce/*.json report, whatever the lab's defaults are now."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lab.core.config import PROTOCOL_RECIPE, TrainConfig, protocol_config
from lab.store.runs import run_id

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reproduce"


def _recorded_ids(name: str) -> tuple[dict, set[str]]:
    report = json.loads((DOCS / f"{name}.json").read_text())
    return report, set(re.findall(r'"id": "([0-9a-f]{12})"', json.dumps(report)))


@pytest.mark.parametrize("name", ["zhang2023", "sepp2023", "sag2025"])
def test_each_protocol_trains_the_runs_its_report_names(name):
    import importlib

    reproduce = importlib.import_module(f"lab.papers.{name}.reproduce")
    report, recorded = _recorded_ids(name)
    for ds in report["datasets"]:
        ours = {run_id(c) for c in reproduce.reproduce_configs(ds["dataset"], report["quick"]).values()}
        assert ours and ours <= recorded, (
            f"{name}: {sorted(ours - recorded)} not in docs/reproduce/{name}.json"
        )


def test_xue_protocol_trains_the_runs_its_report_names():
    from lab.papers.xue2023 import reproduce

    report, recorded = _recorded_ids("xue2023")
    scale = reproduce.QUICK if report["quick"] else reproduce.FULL
    configs = {**reproduce.collapse_configs(scale), **reproduce.suppression_configs(scale)}
    assert {run_id(c) for c in configs.values()} <= recorded


def test_the_protocol_recipe_is_explicit_and_differs_from_the_defaults():
    cfg = protocol_config(method="simclr")
    assert {k: cfg.to_dict()[k] for k in PROTOCOL_RECIPE} == PROTOCOL_RECIPE and cfg.epochs == 1.6
    assert (
        protocol_config(method="supervised").epochs == 3.0 and protocol_config(dataset="digits").epochs == 5.0
    )
    assert run_id(cfg) != run_id(TrainConfig(method="simclr"))
    assert protocol_config(method="simclr", batch_size=512).batch_size == 512  # the caller's values win
