"""lab.bench.gpu (`python -m lab bench-gpu`): refused without CUDA, and its steps end to end on digits."""

from __future__ import annotations

import pytest
import torch

from lab.__main__ import main


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a CUDA machine the benchmark runs")
def test_without_cuda_the_gpu_benchmark_says_so_and_how_to_smoke_test_it(capsys):
    assert main(["bench-gpu"]) == 2
    err = capsys.readouterr().err
    assert "no CUDA GPU is visible" in err and "--allow-cpu" in err


def test_bad_sizes_are_named(capsys):
    assert main(["bench-gpu", "--allow-cpu", "--sizes", "2,eight"]) == 2
    assert "--sizes '2,eight'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.trains
def test_a_cpu_smoke_run_times_every_step_and_trains_the_whole_grid(tmp_path):
    from lab.bench.gpu import run

    rows = run(
        tmp_path, {"dataset": "digits", "epochs": 1}, ["supervised", "simclr"], [4, 16], allow_cpu=True
    )
    what = [r.what for r in rows]
    assert what[0].startswith("device start-up") and what[2] == "default run: trained, scored and stored"
    parts = rows[3].seconds + rows[4].seconds + rows[5].seconds
    assert parts == pytest.approx(rows[2].seconds, abs=0.02), "training + scoring + the rest is the whole run"
    cpu, dev = (r for r in rows if r.what.startswith("scores again"))
    assert cpu.note.split(";")[0] == dev.note.split(";")[0], "on the CPU both paths are the same scores"
    knn = float(rows[2].note.split("kNN ")[1].split(",")[0])
    assert knn > 0.5, "the default digits run beats chance (0.1) by far"
    grid = rows[-2]
    assert grid.what.startswith("sweep: 2 methods x 2 embedding sizes") and grid.note.startswith("4 runs")
    assert all(r.target is None for r in rows), "a CPU run has no GPU target to meet"
    assert len(list((tmp_path / "sweep-runs").glob("*/metrics.json"))) == 4
