"""`python -m lab bench-gpu`: issue #19's GPU targets, measured by one prepared command on a GPU machine.

Over a fresh runs folder, in one process: the device's start-up, the pixel baseline (PCA-64, on the
CPU; a runs folder's first run of a dataset pays it once), the default run (`python -m lab train`)
trained, scored and stored (target: at most 5 s on an H200-class GPU), the same run's scores on the
CPU path (faiss and scikit-learn) beside those on the device as the peer, and a sweep of 3 methods x 6
embedding sizes in a second runs folder, so that it reuses nothing (target: at most 2 minutes).
Without CUDA it refuses, unless --allow-cpu: the same steps as a smoke run, whose times are no target's.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from lab.core.config import TrainConfig
from lab.core.device import pick_device

RUN_TARGET_S = 5.0  # the default run trained + scored + stored, on an H200-class GPU (issue #19)
SWEEP_TARGET_S = 120.0  # 3 methods x 6 embedding sizes (issue #19)
METHODS = ("supervised", "supcon", "simclr")
SIZES = (2, 8, 32, 64, 128, 256)


@dataclass
class Row:
    what: str
    seconds: float
    target: float | None = None
    note: str = ""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def start_device(device: torch.device) -> Row:
    """The device's first use (CUDA context, a matmul's kernels), which a running app has paid already."""
    t0 = time.perf_counter()
    x = torch.randn(1024, 1024, device=device)
    (x @ x).sum().item()
    _sync(device)
    return Row("device start-up (first tensor and matmul)", time.perf_counter() - t0)


def default_run(store, base: dict, device: torch.device) -> tuple[list[Row], object]:
    """The pixel baseline, then the default run trained + scored + stored; rows and the run."""
    from lab.store.baselines import pixel_baseline

    rows = []
    t0 = time.perf_counter()
    px = pixel_baseline(base["dataset"], base.get("subset"), 0, store.root)
    rows.append(Row("pixel baseline (load the data, PCA-64, kNN, linear; CPU, once per runs folder)",
                    time.perf_counter() - t0, note=f"kNN {px['knn_acc']:.4f}, linear {px['linear_acc']:.4f}"))  # fmt: skip
    cfg = TrainConfig(**base)
    t0 = time.perf_counter()
    run, stored = store.get_or_train(cfg)
    total = time.perf_counter() - t0
    if stored:
        raise RuntimeError(
            f"run {run.id} was already stored in {store.root}: the benchmark needs a fresh folder."
        )
    m = run.metrics
    rows.append(Row("default run: trained, scored and stored", total, RUN_TARGET_S if device.type == "cuda" else None,
                    f"kNN {m['knn_acc']:.4f}, linear {m['linear_acc']:.4f}; {cfg.method}, {cfg.epochs} epochs"))  # fmt: skip
    rows.append(Row("  of which training", m["train_seconds"], note=f"{m['images_per_s']:,.0f} images/s on {m['device']}"))  # fmt: skip
    rows.append(
        Row("  of which embedding and scoring", m["eval_seconds"], note="the pixel baseline was cached")
    )
    rows.append(Row("  the rest (loading the data, building the model, writing the run)",
                    total - m["train_seconds"] - m["eval_seconds"]))  # fmt: skip
    return rows, run


def score_paths(run, device: torch.device) -> list[Row]:
    """The run's stored features scored on the CPU path (the peer) and on the device, timed apart."""
    from lab.measures.probes.on_device import use_device
    from lab.measures.probes.scores import score

    h, z, labels, is_test = run.features(), run.features("projector"), run.labels, run.is_test
    here = (f"on {device.type}: matmul top-k kNN, torch L-BFGS linear" if use_device(device)
            else f"on {device.type}: the CPU path again (only CUDA scores on the device)")  # fmt: skip
    rows = []
    for name, where in (("CPU path: faiss kNN, scikit-learn linear", torch.device("cpu")), (here, device)):
        t0 = time.perf_counter()
        s = score(h, z, labels, is_test, where)
        _sync(where)
        rows.append(Row(f"scores again, {name}", time.perf_counter() - t0,
                        note=f"kNN {s['knn_acc']:.4f}, z kNN {s['knn_acc_projector']:.4f}, linear {s['linear_acc']:.4f}"))  # fmt: skip
    cpu, dev = rows[0].seconds, rows[1].seconds
    if use_device(device) and dev > 0:
        rows[1].note += f"; {cpu / dev:.1f}x the CPU path's speed"
    return rows


def sweep(root: Path, first, base: dict, methods, sizes, device: torch.device) -> list[Row]:
    """methods x sizes in a fresh runs folder (the pixel baseline copied over from the first)."""
    from lab.store.baselines import baseline_folder
    from lab.store.runs import RunStore
    from lab.sweep.grid import Sweep, plan
    from lab.sweep.report import sweep_table
    from lab.sweep.runner import complete_paper_scores, run_sweep

    store = RunStore(root)
    src = baseline_folder(first.root, base["dataset"], base.get("subset"), 0)
    shutil.copytree(src, baseline_folder(store.root, base["dataset"], base.get("subset"), 0))
    grid = Sweep({k: v for k, v in base.items() if k != "method"},
                 {"method": list(methods), "embedding_size": list(sizes)})  # fmt: skip
    p = plan(grid, store)
    if p.stored:
        raise RuntimeError(f"{len(p.stored)} runs of the sweep were already stored in {root}.")
    t0 = time.perf_counter()
    ids = run_sweep(grid, store)
    trained = time.perf_counter() - t0
    t0 = time.perf_counter()
    complete_paper_scores(grid, store, log=lambda s: None)
    papers = time.perf_counter() - t0
    print(f"The sweep's runs ({root}):\n{sweep_table(grid, store)}")
    rows = [Row(f"sweep: {len(methods)} methods x {len(sizes)} embedding sizes trained, scored and stored",
                trained, SWEEP_TARGET_S if device.type == "cuda" else None,
                f"{len(ids)} runs, {trained / max(len(ids), 1):.1f} s each; the estimate beforehand: {p.seconds:.0f} s")]  # fmt: skip
    rows.append(Row("  then the papers' run scores its table shows (M1, M2)", papers))
    return rows


def run(root: Path, base: dict, methods=METHODS, sizes=SIZES, allow_cpu: bool = False,
        with_sweep: bool = True) -> list[Row]:  # fmt: skip
    """Every row of the benchmark, over two fresh runs folders under root."""
    from lab.store.runs import RunStore

    device = pick_device(base.get("device", "auto"))
    if device.type != "cuda" and not allow_cpu:
        raise ValueError(f"bench-gpu measures the GPU targets, but this machine computes on {device.type} "
                         "(no CUDA GPU is visible). Run it on a GPU machine, or add --allow-cpu for a smoke run "
                         "of the same steps (e.g. --allow-cpu --dataset digits).")  # fmt: skip
    rows = [start_device(device)]
    first = RunStore(root / "runs")
    more, trained = default_run(first, base, device)
    rows += more + score_paths(trained, device)
    if with_sweep:
        rows += sweep(root / "sweep-runs", first, base, methods, sizes, device)
    return rows


def _verdict(r: Row) -> str:
    if r.target is None:
        return ""
    return f"target <= {r.target:g} s: {'met' if r.seconds <= r.target else 'MISSED'}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--subset", type=int, default=None, help="class-balanced training subset (default: all)")
    p.add_argument("--epochs", type=float, default=None, help="default: the lab's default epochs")
    p.add_argument("--methods", default=",".join(METHODS), help="the sweep's methods")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="the sweep's embedding sizes")
    p.add_argument("--no-sweep", action="store_true", help="only the default run and its scores")
    p.add_argument("--allow-cpu", action="store_true", help="run without CUDA: a smoke run, no targets")
    p.add_argument("--keep", action="store_true", help="keep the temporary runs folders")


def main(args: argparse.Namespace) -> int:
    """The benchmark for parsed arguments (add_arguments); prints the machine and a row per measure."""
    from lab.store.provenance import machine_line

    base = {"dataset": args.dataset, **({"subset": args.subset} if args.subset else {}),
            **({"epochs": args.epochs} if args.epochs else {})}  # fmt: skip
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError as exc:
        raise ValueError(
            f"--sizes {args.sizes!r}: write whole numbers, e.g. --sizes 2,8,32 ({exc})."
        ) from exc
    root = Path(tempfile.mkdtemp(prefix="lab-bench-gpu-"))
    print(f"machine: {machine_line()}")
    try:
        rows = run(root, base, args.methods.split(","), sizes, args.allow_cpu, not args.no_sweep)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'measure':78s} {'wall s':>7s}  notes")
    for r in rows:
        print(f"{r.what:78s} {r.seconds:7.2f}  {'; '.join(x for x in (_verdict(r), r.note) if x)}")
    if args.keep:
        print(f"runs kept in {root}")
    return 0
