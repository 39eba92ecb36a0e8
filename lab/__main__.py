"""The command line: python -m lab {train, runs, bench, ...}."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from lab.data import DATASETS, DatasetUnavailable
from lab.methods import METHODS
from lab.models import ENCODERS
from lab.train import TrainConfig, TrainingCancelled, TrainingDiverged


def _add_train_args(p: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    p.add_argument("--dataset", default=d.dataset, help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--subset", type=int, default=None, help="class-balanced training subset size")
    p.add_argument("--method", default=d.method, help=f"one of {', '.join(METHODS)}")
    p.add_argument("--encoder", default=d.encoder, help=f"one of {', '.join(ENCODERS)}")
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument(
        "--embedding-size", type=int, default=d.embedding_size, help="projector output size, 2-2048"
    )
    p.add_argument("--aug-strength", type=float, default=d.aug_strength, help="0 = identity, 1 = SimCLR's")
    p.add_argument("--temperature", type=float, default=d.temperature)
    p.add_argument("--alpha", type=float, default=d.alpha, help="joint: weight of SupCon")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument(
        "--epochs",
        type=float,
        default=None,
        help="default: 1.6 for two-view methods, 3 for supervised (under a minute each)",
    )
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in vars(args).items() if k in fields})


class ProgressBar:
    """A one-line text progress bar with loss, images/s and ETA."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width, self.last = stream, width, 0.0

    def __call__(self, p) -> None:
        now = time.perf_counter()
        if p.step != p.total_steps and now - self.last < 0.2:
            return
        self.last = now
        done = int(self.width * p.step / p.total_steps)
        bar = "#" * done + "-" * (self.width - done)
        self.stream.write(
            f"\r[{bar}] step {p.step}/{p.total_steps} epoch {p.epoch:.2f} loss {p.loss:.4f} "
            f"{p.images_per_s:,.0f} img/s ETA {p.eta_s:4.0f}s "
        )
        if p.step == p.total_steps:
            self.stream.write("\n")
        self.stream.flush()


def format_metrics(run) -> str:
    m = run.metrics
    px = m.get("pixels", {})
    lines = [
        f"run {run.id}  ({run.title()})",
        f"  folder:        {run.path}",
        f"  data source:   {run.info.get('data_source')}",
        f"  device:        {m.get('device')}   train {m.get('train_seconds')} s, {m.get('images_per_s'):,} img/s",
        "                 this run   pixels (PCA-64)",
        f"  kNN (k=20):    {m['knn_acc']:.4f}     {px.get('knn_acc', float('nan')):.4f}",
        f"  linear probe:  {m['linear_acc']:.4f}     {px.get('linear_acc', float('nan')):.4f}",
    ]
    return "\n".join(lines)


def cmd_train(args) -> int:
    from lab.runs import RunStore

    cfg = config_from_args(args)
    store = RunStore(args.runs_dir)
    t0 = time.perf_counter()
    run, stored = store.get_or_train(cfg, progress=ProgressBar(), status=lambda s: print(s, file=sys.stderr))
    print(
        ("Loaded the stored run" if stored else "Trained and stored")
        + f" in {time.perf_counter() - t0:.1f} s"
    )
    print(format_metrics(run))
    return 0


def cmd_runs(args) -> int:
    from lab.runs import RunStore

    runs = RunStore(args.runs_dir).list()
    if not runs:
        print("No stored runs yet. Train one: python -m lab train --dataset digits --epochs 5")
        return 0
    print(f"{'id':12}  {'method':10} {'dataset':14} {'enc':9} {'p':>5} {'s':>4} {'ep':>5}  "
          f"{'kNN':>6} {'linear':>6}  {'px kNN':>6} {'px lin':>6}  {'train s':>7}")  # fmt: skip
    for r in runs:
        c, m = r.config, r.metrics
        px = m.get("pixels", {})
        print(f"{r.id:12}  {c.method:10} {c.dataset:14} {c.encoder + '-' + str(c.width):9} "
              f"{c.embedding_size:>5} {c.aug_strength:>4} {c.epochs:>5}  {m.get('knn_acc', float('nan')):>6.3f} {m.get('linear_acc', float('nan')):>6.3f}"
              f"  {px.get('knn_acc', float('nan')):>6.3f} {px.get('linear_acc', float('nan')):>6.3f}"
              f"  {m.get('train_seconds', 0):>7}")  # fmt: skip
    return 0


def cmd_bench(args) -> int:
    from lab.bench import main as bench_main

    return bench_main(args)


def cmd_bench_geometry(args) -> int:
    from lab.bench_geometry import main as bench_geometry_main

    bench_geometry_main(tau=args.tau, draws=args.draws)
    return 0


def cmd_bench_app(args) -> int:
    from lab.bench_app import main as bench_app_main

    argv = (
        (["--runs-dir", args.runs_dir] if args.runs_dir else [])
        + ["--fake"] * args.fake
        + ["--layouts"] * args.layouts
    )
    return bench_app_main(argv) or 0


def cmd_bench_jobs(args) -> int:
    from lab.bench_jobs import main as bench_jobs_main

    return bench_jobs_main(["--dataset", args.dataset] + ["--keep"] * args.keep)


def cmd_bench_browser(args) -> int:
    from lab.bench_browser import main as bench_browser_main

    return bench_browser_main(
        ["--keep"] * args.keep
        + ["--start-only"] * args.start_only
        + ["--gpu-compositing"] * args.gpu_compositing
    )


def cmd_reproduce(args) -> int:
    from lab.reproduce import main as reproduce_main

    path = reproduce_main(
        quick=args.quick, runs_dir=args.runs_dir, datasets=tuple(args.dataset or ()) or None,
        train_progress=ProgressBar(),
    )  # fmt: skip
    print(f"Report written to {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description="SSL Lab command line")
    parser.add_argument("--runs-dir", default=None, help="run store folder (default $LAB_RUNS_DIR or ./runs)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a run (or load it when stored) and print its metrics")
    _add_train_args(p)
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("runs", help="list stored runs with their key metrics")
    p.set_defaults(func=cmd_runs)
    p = sub.add_parser("bench", help="training throughput vs a per-sample pipeline, matmul peak, RSS")
    p.add_argument("--seconds", type=float, default=15.0, help="timed seconds per pipeline")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser(
        "bench-geometry", help="RLD, purity, cross-class pairs and GCN probe timings on 70k points"
    )
    p.add_argument("--tau", type=float, default=0.2)
    p.add_argument("--draws", type=int, default=5)
    p.set_defaults(func=cmd_bench_geometry)
    p = sub.add_parser("bench-app", help="stored-run map load and click-to-neighbours timings (70k points)")
    p.add_argument("--fake", action="store_true", help="a fake 70,000-row run even if a real one is stored")
    p.add_argument(
        "--layouts", action="store_true", help="also the map's UMAP layout at 200, 120 and 80 epochs"
    )
    p.set_defaults(func=cmd_bench_app)
    p = sub.add_parser(
        "bench-jobs", help="the app's background jobs (warm-up, train, map, scores, table) without a browser"
    )
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--keep", action="store_true", help="keep the temporary runs folder")
    p.set_defaults(func=cmd_bench_jobs)
    p = sub.add_parser(
        "bench-browser", help="make run, train-to-map, click and stored-map timings in headless chromium"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary runs folder")
    p.add_argument("--start-only", action="store_true", help="only time `make run` to the first page")
    p.add_argument("--gpu-compositing", action="store_true",
                   help="chromium composites with SwiftShader as a GPU (as a desktop browser with a GPU does)")  # fmt: skip
    p.set_defaults(func=cmd_bench_browser)
    p = sub.add_parser(
        "reproduce", help="re-measure a paper's claims at the lab's scale; writes docs/reproduce/"
    )
    p.add_argument("paper", choices=["zhang2023"])
    p.add_argument(
        "--quick", action="store_true", help="10,000-image subset, 1 epoch: a few minutes on 2 cores"
    )
    p.add_argument("--dataset", action="append", help="default: fashion-mnist (+ cifar10 when present)")
    p.set_defaults(func=cmd_reproduce)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, DatasetUnavailable, TrainingDiverged) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingCancelled as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nInterrupted; nothing incomplete was stored.", file=sys.stderr)
        return 130
    except RuntimeError as exc:  # RunStoreError and friends: a message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
