"""Sweeps: the grid and its checks, the estimate and the budget's refusal, resuming after an
interruption, the CLI, the lines drawn from the stored runs, and the Ray path on a local instance."""

from __future__ import annotations

import pytest

from lab.core.config import TrainConfig
from lab.core.train import TrainingCancelled
from lab.store.runs import RunStore, run_id
from lab.sweep.grid import Sweep, check_budget, plan, save_sweep, stored_sweeps
from lab.sweep.report import lines, sweep_rows
from lab.sweep.runner import check_reachable, run_sweep

TINY = {"dataset": "digits", "epochs": 1.0, "batch_size": 256}


def test_the_grid_is_every_combination_of_its_axes_each_checked():
    sw = Sweep(TINY, {"method": ["simclr", "supcon"], "embedding_size": [2, 8, 32]})
    configs = sw.configs()
    assert len(configs) == 6 and len({run_id(c) for c in configs}) == 6
    assert {(c.method, c.embedding_size) for c in configs} == {
        (m, p) for m in ("simclr", "supcon") for p in (2, 8, 32)
    }
    assert sw.varied == ["method", "embedding_size"]
    assert sw.id == Sweep({**TINY, "device": "cpu"}, sw.axes).id  # where it runs is not what it is


@pytest.mark.parametrize(
    "axes, message",
    [
        ({}, "at least one axis"),
        ({"embedding_size": []}, "has no values"),
        ({"embeding_size": [2]}, "'embeding_size' is not something a sweep can vary"),
        ({"seed": list(range(30)), "embedding_size": list(range(2, 30))}, "at most 500"),
    ],
)
def test_a_bad_grid_is_refused_with_what_to_change(axes, message):
    with pytest.raises(ValueError, match=message):
        Sweep(TINY, axes)


def test_q_on_a_dataset_without_digits_is_refused_before_training():
    with pytest.raises(ValueError, match="q"):
        Sweep(TINY, {"q": [0.0, 1.0]}).configs()


def test_a_sweep_over_its_budget_is_refused_with_its_estimate(tmp_path):
    store = RunStore(tmp_path)
    p = plan(Sweep({**TINY, "epochs": 50.0}, {"seed": list(range(20))}), store)
    assert p.seconds > 60 and not p.stored
    check_budget(p, None)  # no budget, no refusal
    with pytest.raises(
        ValueError, match=r"would take about \d+ minutes here \(20 runs to train\), over its budget of 1"
    ):
        check_budget(p, 1)


def test_the_estimate_counts_the_probes_of_each_label_set_and_the_width_s_speed(tmp_path):
    from lab.sweep.grid import DEFAULT_IMAGES_PER_S, LABEL_PROBE_SECONDS, estimate_seconds

    one, two = (TrainConfig(dataset=d, subset=10_000) for d in ("fashion-mnist", "fashion-mnist-coarse"))
    extra = estimate_seconds(two, 1_000.0) - estimate_seconds(one, 1_000.0)
    assert extra == pytest.approx(LABEL_PROBE_SECONDS * 2 * 2)  # 2 label sets on h and z
    empty = RunStore(tmp_path)  # no stored run: the assumed speed of the encoder's width
    assert plan(Sweep(one.to_dict(), {"seed": [0]}), empty).seconds == pytest.approx(
        estimate_seconds(one, DEFAULT_IMAGES_PER_S[one.width])
    )


def test_an_unreachable_ray_address_is_refused_quickly():
    with pytest.raises(ValueError, match="Could not reach a Ray cluster at '127.0.0.1:1'"):
        check_reachable("127.0.0.1:1", timeout_s=1)


@pytest.mark.slow
def test_a_sweep_resumes_after_an_interruption_reusing_what_it_stored(tmp_path):
    store = RunStore(tmp_path)
    sw = Sweep(TINY, {"embedding_size": [4, 16]})
    first, second = sw.configs()
    stops = {"runs": 0}

    def stop_in_second_run(progress) -> None:  # lets the first run finish, stops the second at its first step
        if progress.text.startswith("Sweep: run 2"):
            stops["runs"] += 1

    with pytest.raises(TrainingCancelled):
        run_sweep(sw, store, progress=stop_in_second_run, should_stop=lambda: stops["runs"] > 0)
    assert store.path(first).is_dir() and not store.path(second).is_dir()
    assert [doc["state"] for s, doc in stored_sweeps(store) if s.id == sw.id] == ["running"]
    stamp = (store.path(first) / "metrics.json").stat().st_mtime_ns
    seen = []
    ids = run_sweep(sw, store, progress=lambda p: seen.append(p.text))
    assert ids == [run_id(first), run_id(second)] and store.path(second).is_dir()
    assert (store.path(first) / "metrics.json").stat().st_mtime_ns == stamp  # reused, not retrained
    assert all(t.startswith("Sweep: run 2 of 2") for t in seen)
    assert [doc["state"] for s, doc in stored_sweeps(store) if s.id == sw.id] == ["done"]
    rows = sweep_rows(sw, store)
    assert [r["embedding_size"] for r in rows] == [4, 16] and all(r["knn_acc"] > 0.3 for r in rows)


def test_lines_average_the_seeds_and_span_their_range():
    rows = [{"method": m, "embedding_size": p, "seed": s, "acc": base + 0.1 * s}
            for m, base in (("a", 0.5), ("b", 0.7)) for p in (2, 8) for s in (0, 1)]  # fmt: skip
    out = lines(rows, "embedding_size", "acc", "method")
    assert out["a"]["x"] == [2, 8] and out["a"]["mean"] == pytest.approx([0.55, 0.55])
    assert out["b"]["low"] == pytest.approx([0.7, 0.7]) and out["b"]["high"] == pytest.approx([0.8, 0.8])
    assert out["a"]["n"] == [2, 2]
    assert list(lines(rows, "seed", "acc", None)) == ["all"]


def test_stored_sweeps_read_back_newest_first(tmp_path):
    store = RunStore(tmp_path)
    a, b = Sweep(TINY, {"seed": [0, 1]}), Sweep(TINY, {"seed": [2, 3]})
    save_sweep(a, store)
    save_sweep(b, store, "done")
    found = stored_sweeps(store)
    assert [s.id for s, _ in found] == [b.id, a.id] and found[0][1]["state"] == "done"
    (store.root / "_sweeps" / "broken.json").write_text("{not json")
    assert len(stored_sweeps(store)) == 2  # a damaged record is skipped


@pytest.mark.slow
def test_the_cli_sweeps_then_prints_one_row_per_run(tmp_path, capsys):
    from lab.__main__ import main

    args = [
        "--runs-dir",
        str(tmp_path),
        "sweep",
        "--dataset",
        "digits",
        "--epochs",
        "1",
        "--over",
        "embedding_size=4,16",
    ]
    assert main([*args, "--dry-run"]) == 0
    assert "2 runs (0 stored, 2 to train)" in capsys.readouterr().err
    assert main([*args, "--budget-minutes", "0.001"]) == 2
    assert "over its budget" in capsys.readouterr().err
    assert main([*args, "--skip-paper-scores"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["run", "embedding_size"] and len(out) == 3
    assert "m2" not in out[0].split()  # not computed yet
    assert main(args) == 0  # the runs are stored: only M1 and M2 are computed
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert "m2" in out[0].split() and "M1 and M2 of 2 runs" in captured.err
    col = out[0].split().index("m2")
    assert all(-1 <= float(line.split()[col]) <= 1 for line in out[1:])  # a rank correlation per run
    assert main([*args[:-2], "--over", "embeding_size=4"]) == 2


@pytest.mark.slow
def test_a_two_config_sweep_runs_as_ray_tasks_on_a_local_instance(tmp_path):
    import ray

    from lab.sweep.runner import run_sweep_on_ray

    store = RunStore(tmp_path)
    sw = Sweep(TINY, {"embedding_size": [4, 16]})
    try:
        ids = run_sweep_on_ray(sw, store, "local", log=lambda _s: None, num_cpus=2)
    finally:
        ray.shutdown()
    assert ids == [run_id(c) for c in sw.configs()]
    for rid in ids:
        run = store.load(rid, verify="full")  # whole and checked: written by another process
        assert run.metrics["knn_acc"] > 0.3


@pytest.mark.slow
def test_a_sweep_with_a_time_budget_per_run_trains_each_run_the_epochs_its_budget_resolved_to(
    tmp_path, monkeypatch
):
    from lab.store import budget
    from lab.sweep.grid import Sweep, plan, realised_configs
    from lab.sweep.runner import run_sweep

    monkeypatch.setattr(budget, "calibrate", lambda cfg: 10.0)  # steps per second: 2 s buy 20 steps
    store = RunStore(tmp_path)
    sw = Sweep(TrainConfig(dataset="digits").to_dict() | {"epochs": None}, {"seed": [0, 1]}, run_seconds=2.0)
    assert plan(sw, store).seconds >= 2 * 2.0 and len(plan(sw, store).left) == 2
    ids = run_sweep(sw, store)
    runs = [store.load(i) for i in ids]
    assert len(runs) == 2 and {r.config.seed for r in runs} == {0, 1}
    assert all(r.metrics["steps"] == 20 for r in runs)
    assert plan(sw, store).left == [] and all(c is not None for c in realised_configs(sw, store))
    with pytest.raises(ValueError, match="drop epochs"):
        Sweep(TrainConfig(dataset="digits").to_dict(), {"seed": [0, 1]}, run_seconds=2.0)


def test_a_stored_sweep_keeps_its_time_budget_per_run(tmp_path):
    from lab.sweep.grid import Sweep, save_sweep, stored_sweeps

    store = RunStore(tmp_path)
    sw = Sweep(TrainConfig(dataset="digits").to_dict() | {"epochs": None}, {"seed": [0, 1]}, run_seconds=2.0)
    save_sweep(sw, store)
    (back, _), *_ = stored_sweeps(store)
    assert back == sw and back.run_seconds == 2.0 and back.id == sw.id


def test_the_sweep_table_carries_m1_and_m2_once_the_worker_job_has_stored_them(tiny_run, store):
    """M1 and M2 (the sag2025 paper's run scores) read — until computed: the table lists the jobs that fill
    them in (the run's and the pixels'), and once stored they are measures like kNN accuracy."""
    from tiny import TINY as RUN

    from lab.papers import paper_run_scores
    from lab.papers.sag2025.analysis import run_structure
    from lab.store.baselines import pixel_baseline_of
    from lab.sweep.report import measure_names, pixel_value, scores_to_compute

    sweep = Sweep({k: v for k, v in RUN.items() if k != "seed"}, {"seed": [RUN["seed"]]})
    assert [r["run"] for r in sweep_rows(sweep, store)] == [tiny_run.id]
    before = sweep_rows(sweep, store)[0]
    (scores,) = paper_run_scores()
    if before["m2"] is None:  # the session's store may have them from an earlier test
        todo = scores_to_compute([before], store)
        assert {(s.job_kind, r.id, tuple(p.items())) for s, r, p in todo} <= {
            (scores.job_kind, tiny_run.id, ()),
            (scores.job_kind, tiny_run.id, (("rep", "pixels"),)),
        }
        assert (scores.job_kind, tiny_run.id, ()) in {(s.job_kind, r.id, tuple(p)) for s, r, p in todo}
    structure = run_structure(tiny_run)
    run_structure(pixel_baseline_of(tiny_run))
    row = sweep_rows(sweep, store)[0]
    assert row["m1"] == structure["m1"]["cophenetic"] and row["m2"] == structure["m2"]["spearman"]
    assert -1 <= row["m1"] <= 1 and scores_to_compute([row], store) == []
    assert measure_names([row])["m1"] == "M1 global structure [L]" and "m2" in measure_names([row])
    assert pixel_value(sweep, store, "m1") == run_structure(pixel_baseline_of(tiny_run))["m1"]["cophenetic"]
    assert pixel_value(sweep, store, "m1") != pixel_value(sweep, store, "knn_acc")


def test_m1_is_undefined_where_the_lab_has_no_superclass_tree():
    from lab.papers import paper_run_scores

    (scores,) = paper_run_scores()
    assert scores.undefined("digits") is None and scores.undefined("fashion-mnist") is None
    assert "no superclass tree for digit-on-fashion-mnist" in scores.undefined("digit-on-fashion-mnist")
    assert "[L]" in scores.note and all("[L]" in c.label for c in scores.columns)
