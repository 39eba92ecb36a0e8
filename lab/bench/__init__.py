"""Speed and memory benchmarks, run as `python -m lab bench ...`; docs/performance.md holds the figures.

Each prints its own figures beside a peer measured in the same run, with the machine it ran on.
"""

from __future__ import annotations


def _speed(args):
    from lab.bench.speed import main

    return main(args)


def _geometry(args):
    from lab.bench.geometry import main

    main(tau=args.tau, draws=args.draws)
    return 0


def _app(args):
    from lab.bench.app import main

    return main((["--runs-dir", args.runs_dir] if args.runs_dir else []) + ["--fake"] * args.fake
                + ["--layouts"] * args.layouts)  # fmt: skip


def _jobs(args):
    from lab.bench.jobs import main

    return main(["--dataset", args.dataset] + ["--keep"] * args.keep)


def _browser(args):
    from lab.bench.browser import main

    return main(["--keep"] * args.keep + ["--start-only"] * args.start_only
                + ["--gpu-compositing"] * args.gpu_compositing)  # fmt: skip


def _store(args):
    from lab.bench.store import main

    return main(["--runs", str(args.runs)])


def _timeline(args):
    from lab.bench.timeline import main

    return main(["--dataset", args.dataset, "--snapshots", str(args.snapshots)] + ["--keep"] * args.keep
                + ["--browser"] * args.browser)  # fmt: skip


def _recipe(args):
    from lab.bench.recipe import main

    return main(args)


def _gpu(args):
    from lab.bench.gpu import main

    return main(args)


BENCHES = {"bench-gpu": _gpu, "bench-recipe": _recipe, "bench-store": _store, "bench": _speed, "bench-geometry": _geometry, "bench-app": _app, "bench-jobs": _jobs,
           "bench-browser": _browser, "bench-timeline": _timeline}  # fmt: skip


def add_bench_commands(sub, handler) -> None:
    """The bench subcommands of `python -m lab`, each calling handler(args)."""
    p = sub.add_parser("bench", help="training throughput vs a per-sample pipeline, matmul peak, RSS")
    p.add_argument("--seconds", type=float, default=15.0, help="timed seconds per pipeline")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=handler)
    p = sub.add_parser(
        "bench-geometry", help="RLD, purity, cross-class pairs and GCN probe timings on 70k points"
    )
    p.add_argument("--tau", type=float, default=0.2)
    p.add_argument("--draws", type=int, default=5)
    p.set_defaults(func=handler)
    p = sub.add_parser("bench-app", help="stored-run map load and click-to-neighbours timings (70k points)")
    p.add_argument("--fake", action="store_true", help="a fake 70,000-row run even if a real one is stored")
    p.add_argument(
        "--layouts", action="store_true", help="also the map's UMAP layout at 200, 120 and 80 epochs"
    )
    p.set_defaults(func=handler)
    p = sub.add_parser("bench-jobs", help="the app's background jobs (warm-up, train, map, scores, table)")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--keep", action="store_true", help="keep the temporary runs folder")
    p.set_defaults(func=handler)
    p = sub.add_parser(
        "bench-store", help="what verifying runs costs: opening a 70k run, runs --verify on 20"
    )
    p.add_argument("--runs", type=int, default=20, help="runs verified together")
    p.set_defaults(func=handler)
    p = sub.add_parser(
        "bench-recipe", help="the default minute against the pixels: SimCLR and supervised, 3 seeds"
    )
    p.add_argument("--budget", type=float, default=60.0, help="seconds of training per run")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="a SimCLR setting off its default")
    p.add_argument(
        "--curve", metavar="S1,S2,...", help="seed 0 at these budgets instead: accuracy against time"
    )
    p.set_defaults(func=handler)
    p = sub.add_parser(
        "bench-timeline", help="a default run's training timeline, timed from the end of training"
    )
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--snapshots", type=int, default=8)
    p.add_argument("--keep", action="store_true", help="keep the temporary runs folder")
    p.add_argument("--browser", action="store_true", help="then time the Map page's step slider in chromium")
    p.set_defaults(func=handler)
    p = sub.add_parser(
        "bench-gpu", help="issue #19's GPU targets: the default run trained, scored and stored; a 3 x 6 sweep"
    )
    from lab.bench.gpu import add_arguments

    add_arguments(p)
    p.set_defaults(func=handler)
    p = sub.add_parser(
        "bench-browser", help="make run, train-to-map, click and stored-map timings in chromium"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary runs folder")
    p.add_argument("--start-only", action="store_true", help="only time `make run` to the first page")
    p.add_argument("--gpu-compositing", action="store_true",
                   help="chromium composites with SwiftShader as a GPU (as a desktop browser with a GPU does)")  # fmt: skip
    p.set_defaults(func=handler)
