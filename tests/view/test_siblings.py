"""Which stored runs the Map and Probes pages' axis sliders swap between (lab.view.siblings)."""

from __future__ import annotations

from types import SimpleNamespace

from lab.core.config import TrainConfig
from lab.view.siblings import sibling_axes


def _run(rid: str, **fields):
    return SimpleNamespace(id=rid, config=TrainConfig(dataset="digits", **fields))


def test_runs_differing_in_one_axis_only_make_that_axis_a_slider_sorted_by_value():
    me = _run("a", embedding_size=32)
    runs = [
        _run("b", embedding_size=8),
        me,
        _run("c", embedding_size=128),
        _run("d", embedding_size=8, seed=1),
    ]
    axes = sibling_axes(me, runs)
    assert axes == {"embedding_size": [(8, "b"), (32, "a"), (128, "c")]}  # d differs in two things


def test_the_newest_run_of_a_value_wins_and_snapshots_do_not_count_as_a_difference():
    me = _run("a", aug_strength=0.2)
    runs = [_run("new", aug_strength=0.8, snapshots=4), _run("old", aug_strength=0.8), me]
    assert sibling_axes(me, runs) == {"aug_strength": [(0.2, "a"), (0.8, "new")]}


def test_a_run_with_no_sibling_has_no_slider():
    me = _run("a")
    assert sibling_axes(me, [me, _run("m", method="supervised"), _run("s", seed=3)]) == {}
