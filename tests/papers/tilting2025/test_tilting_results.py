"""lab.papers.tilting2025.results: each setting is trained once and read back from
<runs>/_tilting2025/sim-<key>.json; a sweep is its cached points; a damaged file is computed again."""

from __future__ import annotations

import json

import pytest

from lab.papers.tilting2025 import results
from lab.papers.tilting2025.simulation import SimulationConfig

FAST = SimulationConfig(problem="example", steps=20)


def test_a_simulation_is_stored_once_then_read(tmp_path, monkeypatch):
    first = results.simulation(FAST, tmp_path)
    path = tmp_path / "_tilting2025" / f"sim-{FAST.key()}.json"
    assert path.is_file() and json.loads(path.read_text())["key"] == FAST.key()

    def no_training(*a, **kw):
        raise AssertionError("trained again")

    monkeypatch.setattr(results, "run_simulation", no_training)
    assert results.simulation(FAST, tmp_path) == first == results.stored_simulation(FAST, tmp_path)


def test_a_damaged_cache_file_reads_as_missing(tmp_path):
    path = results.cache_path(tmp_path, f"sim-{FAST.key()}")
    path.parent.mkdir(parents=True)
    path.write_text('{"key": "half')
    assert results.stored_simulation(FAST, tmp_path) is None
    assert results.simulation(FAST, tmp_path)["key"] == FAST.key()


def test_a_sweep_is_its_cached_points_one_row_per_loss_and_value(tmp_path):
    base = SimulationConfig(d_u=4, d_v=3, rank=2, steps=20)
    losses, values = ("two-sided", "joint"), (64, 128)
    assert results.stored_sweep(base, "batch", tmp_path, losses, values) is None
    assert len(results.missing_points(base, "batch", tmp_path, losses, values)) == 4
    seen = []
    rows = results.run_sweep(base, "batch", tmp_path, losses, values, progress=lambda f, m: seen.append(f))
    assert [(r["loss"], r["value"]) for r in rows] == [
        ("two-sided", 64),
        ("two-sided", 128),
        ("joint", 64),
        ("joint", 128),
    ]
    assert (
        seen
        and seen[-1] == pytest.approx(1.0)
        and all(a <= b + 1e-9 for a, b in zip(seen, seen[1:], strict=False))
    )
    assert results.stored_sweep(base, "batch", tmp_path, losses, values) == rows
    assert results.missing_points(base, "batch", tmp_path, losses, values) == []
    assert {"mean u|v", "closed-form mean u|v", "angle", "spectrum_bias"} <= set(rows[0])


def test_an_unknown_sweep_is_refused():
    with pytest.raises(ValueError, match="Unknown sweep 'tau'"):
        results.sweep_configs(SimulationConfig(), "tau")


def test_the_examples_picture_has_closed_forms_before_any_training():
    panels = results.example_conditionals({})
    assert len(panels) == 8 and all(p["trained_slope"] is None for p in panels)
    two = next(p for p in panels if (p["loss"], p["tilt"]) == ("two-sided", "bilinear"))
    assert two["closed_slope"] == pytest.approx(2 / 3) and two["closed_var"] == pytest.approx(1.5)
