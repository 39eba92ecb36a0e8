"""`python -m lab bench-paper xue2023 [--quick]`: the speed targets of Xue et al. 2023's part of the lab
(issue 19) on this machine, each printed beside the peer it is compared with in the same run.

- each linear toy re-runs within 2 s (one torch thread, as the worker runs it); peer: the machine's
  float32 matmul peak;
- snapshots add at most 5 % to training time: the time taken by 8 snapshots inside the default run
  (Fashion-MNIST, 60,000 images, default epochs; --quick: 20,000) against that run's training time
  without them; and the whole runs with and without, alternately;
- each probe within 5 s: the linear and kNN probes of each label set of a fashion-mnist-coarse run,
  beside the same probes on its pixel baseline;
- a 3 methods × 4 embedding sizes sweep on a 10,000-image subset within 15 minutes: the plan's estimate,
  then the sweep trained for real (--quick: a 2-run sweep of 1 epoch instead);
- a slider move between two stored sweep runs redraws the Map page within 1 s, beside a rerun of the
  page without a move (Streamlit's AppTest in a child process; the lab never imports streamlit).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from lab.store.provenance import machine_line

REPO = Path(__file__).resolve().parents[3]
TARGETS = {"toy": 2.0, "snapshots": 0.05, "probe": 5.0, "sweep": 15 * 60.0, "slider": 1.0}
SWEEP = {"method": ["supervised", "supcon", "simclr"], "embedding_size": [2, 8, 32, 128]}
SWEEP_BASE = {"dataset": "fashion-mnist-coarse", "subset": 10_000}
SLIDER_TIMER = r"""
import json, sys, time
from streamlit.testing.v1 import AppTest
sys.path.insert(0, "tests/app")
import os
import lab.papers, pages.ui.state  # what app.py has imported before any page runs
from lab.store.runs import RunStore
small, repeats = sys.argv[1], int(sys.argv[2])
run = RunStore(os.environ["LAB_RUNS_DIR"]).load(small)
at = AppTest.from_file("tests/app/page_harness.py", default_timeout=120)
at.query_params["page"] = "map"
at.session_state["run_picker"] = small
at.session_state["point"] = {"data": pages.ui.state.data_key(run), "row": 0}  # neighbours shown
at.run()
moves, stays = [], []
for i in range(repeats):
    slider = next(w for w in at.select_slider if w.key == "map_axis_embedding_size")
    target = int(slider.options[-1] if i % 2 == 0 else slider.options[0])
    start = time.perf_counter()
    slider.set_value(target).run()
    moves.append(time.perf_counter() - start)
    start = time.perf_counter()
    at.run()
    stays.append(time.perf_counter() - start)
print(json.dumps({"moves": moves, "stays": stays, "exception": [str(e.value) for e in at.exception],
                  "picked": at.session_state["run_picker"]}))
"""


def _line(what: str, value: float, target: float, unit: str = "s", note: str = "") -> str:
    verdict = "met" if value <= target else "MISSED"
    shown = f"{value:6.2f} {unit}" if unit == "s" else f"{value:6.1%}  "
    limit = f"{target:g} s" if unit == "s" else f"{target:.0%}"
    return f"  {what:<62} {shown}   target ≤ {limit}: {verdict}{note}"


def _median(times: list[float]) -> str:
    return f"   (median of {len(times)}: {', '.join(f'{t:.2f}' for t in times)})"


def bench_toys(repeats: int) -> None:
    from lab.measures.features import torch_threads
    from lab.papers.xue2023.toys import CCConfig, run_cc
    from lab.papers.xue2023.toys_fs import FSConfig, run_fs

    toys = {"CC toy (UCL, SCL, joint; 3,000 steps, probed every 50)": lambda: run_cc(CCConfig()),
            "FS line against p, UCL (k_e = 32, n = 1,000; 8 models)": lambda: run_fs(FSConfig()),
            "FS line against p, joint (α = 0.5)": lambda: run_fs(FSConfig(alpha=0.5)),
            "FS line against q (p = 8; 7 models)": lambda: run_fs(FSConfig(axis="q")),
            "FS line against p, n < k_e (k_e = 128, n = 64; 10 models)": lambda: run_fs(FSConfig(k_e=128, n=64))}  # fmt: skip
    with torch_threads(1):
        for name, fn in toys.items():
            times = [fn().seconds for _ in range(repeats)]
            print(_line(name, statistics.median(times), TARGETS["toy"], note=_median(times)))


def bench_snapshots(quick: bool) -> None:
    """The snapshots' own time (inside the training loop) against the training time without them, and
    the whole runs with and without, alternately (noisier: a run's speed drifts by a few %)."""
    from lab.core.config import TrainConfig
    from lab.core.train import train

    subset = 20_000 if quick else None
    base = TrainConfig(dataset="fashion-mnist", subset=subset)
    times, inside = {0: [], 8: []}, []
    for _ in range(1 if quick else 2):  # alternately, so that a slower minute hits both
        for n in (0, 8):
            r = train(TrainConfig(**{**base.to_dict(), "snapshots": n}))
            times[n].append(r.train_seconds)
            inside += [r.snapshots.seconds] if n else []
    without, with_, own = statistics.median(times[0]), statistics.median(times[8]), statistics.median(inside)
    size = f"{subset:,}" if subset else "60,000"
    print(_line(f"8 snapshots of 5,000 images, {size} images × {base.epochs:g} epochs", own / without,
                TARGETS["snapshots"], unit="%",
                note=f"   ({own:.2f} s taking them, against {without:.1f} s of training without; whole runs "
                     f"{with_:.1f} s with, {without:.1f} s without: {with_ / without - 1:+.1%})"))  # fmt: skip


def bench_probes(run) -> None:
    from lab.store.baselines import pixel_baseline_of
    from lab.store.label_probes import probe_rows

    pixels = pixel_baseline_of(run)
    for rep, x in (("h", run.features("backbone")), ("pixels", pixels.features("backbone"))):
        for name, (labels, classes) in run.label_sets().items():
            start = time.perf_counter()
            r = probe_rows(x, labels, run.is_test)
            print(_line(f"linear + kNN probe, {name} labels ({len(classes)} classes) on {rep}",
                        time.perf_counter() - start, TARGETS["probe"],
                        note=f"   (fit {r['n_fit']:,}, scored on {r['n_test']:,}; linear {r['linear']:.3f}, "
                             f"kNN {r['knn']:.3f})"))  # fmt: skip


def bench_sweep(store, quick: bool) -> dict:
    """The sweep's estimate, then the sweep (--quick: SimCLR at two sizes, one epoch); {(method, p): id}."""
    from lab.core.config import protocol_config
    from lab.sweep.grid import Sweep, plan
    from lab.sweep.runner import run_sweep

    sweep = Sweep(base=protocol_config(**SWEEP_BASE).to_dict(), axes=SWEEP)
    n = len(sweep.configs())
    print(_line(f"sweep of {n} runs on 10,000 images: the plan's estimate", plan(sweep, store).seconds,
                TARGETS["sweep"]))  # fmt: skip
    if quick:
        sweep = Sweep(base=protocol_config(**SWEEP_BASE, epochs=1).to_dict(),
                      axes={"method": ["simclr"], "embedding_size": [8, 32]})  # fmt: skip
    start = time.perf_counter()
    ids = run_sweep(sweep, store)
    what = "a quick 2-run sweep (SimCLR, p = 8 and 32, 1 epoch)" if quick else "the same sweep"
    print(_line(f"{what}: trained, stored, probed per label set", time.perf_counter() - start,
                TARGETS["sweep"] * len(ids) / n, note=f"   ({len(ids)} runs)"))  # fmt: skip
    return {(c.method, c.embedding_size): rid for c, rid in zip(sweep.configs(), ids, strict=True)}


def bench_slider(store, small, large, repeats: int) -> None:
    """Seconds of the Map page's rerun after an embedding-size slider move (a clicked image's neighbours
    shown), and of a rerun without a move, in a child process under AppTest."""
    from lab.store.maps import run_map

    for rid in (small, large):
        run_map(store.load(rid), "backbone")  # laid out in the background when a sweep finishes
    env = {**os.environ, "LAB_RUNS_DIR": str(store.root), "LAB_WARM_UP_BASELINE": "0"}
    out = subprocess.run([sys.executable, "-c", SLIDER_TIMER, small, str(2 * repeats)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"timing the slider failed:\n{out.stderr[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if r["exception"]:
        raise RuntimeError(f"the Map page failed: {r['exception']}")
    move, stay = statistics.median(r["moves"]), statistics.median(r["stays"])
    print(_line("slider move between two stored runs: Map page redrawn", move, TARGETS["slider"],
                note=f"   (median of {len(r['moves'])}; a rerun without a move: {stay:.2f} s)"))  # fmt: skip


def main(quick: bool = False) -> int:
    from lab.bench.speed import matmul_peak_gflops

    repeats = 1 if quick else 3
    print(f"xue2023 benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {machine_line()}")
    print(f"  peer: float32 matmul peak {matmul_peak_gflops(torch.device('cpu')):,.0f} GFLOP/s "
          f"({torch.get_num_threads()} threads)")  # fmt: skip
    bench_toys(repeats)
    bench_snapshots(quick)
    with tempfile.TemporaryDirectory() as tmp:
        from lab.store.runs import RunStore

        store = RunStore(tmp)
        ids = bench_sweep(store, quick)
        small, large = ids[("simclr", 8)], ids[("simclr", 32)]
        bench_probes(store.load(large))
        bench_slider(store, small, large, repeats)
    return 0
