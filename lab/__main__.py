"""The command line: python -m lab {train, runs, sweep, reproduce, bench, ...}.

Its choices come from the registries: datasets (lab.core.data), methods and their parameters
(lab.core.methods: one flag per parameter), papers (lab.papers), so a new method or paper needs
no edit here.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from lab.core.config import TrainConfig, dataset_params, default_epochs
from lab.core.data import DatasetUnavailable, all_datasets
from lab.core.methods import all_methods, all_params
from lab.core.models import ENCODERS
from lab.core.train import TrainingCancelled, TrainingDiverged
from lab.measures.probes.knn import KNN_K

FIELD_HELP = {
    "dataset": f"one of {', '.join(all_datasets())}",
    "subset": "class-balanced training subset size (default: all)",
    "encoder": f"one of {', '.join(ENCODERS)}",
    "embedding_size": "projector output size p, 2-2048",
    "aug_strength": "0 = identity, 1 = SimCLR's",
    "epochs": f"default: {default_epochs('simclr'):g} for two-view methods, {default_epochs('supervised'):g} "
    f"for supervised, {default_epochs('simclr', 'digits'):g} on digits",
    "device": "auto (CUDA, then MPS, then CPU), cpu, cuda or mps",
    "snapshots": "record the backbone features of a fixed class-balanced probe set (about 5,000 images) this "
    "many times evenly over training (0: none); the subclass curve and the training movie read them",
}


def _escaped(text: str) -> str:
    """argparse reads '%' in a help text as a format: a declared help saying "10 %" must not break --help."""
    return text.replace("%", "%%")


def _add_train_args(p: argparse.ArgumentParser) -> None:
    """One flag per config field, then one per method parameter (declared by the methods)."""
    methods = all_methods()
    for f in dataclasses.fields(TrainConfig):
        if f.name == "params":
            continue
        kind = {"int | None": int, "float | None": float}.get(str(f.type), type(f.default))
        help_text = FIELD_HELP.get(f.name, "")
        if f.name == "method":
            help_text = "; ".join(f"{m.name}: {m.summary}" for m in methods.values())
        p.add_argument(
            f"--{f.name.replace('_', '-')}", type=kind, default=f.default, help=_escaped(help_text)
        )
    for param in dataset_params().values():
        users = ", ".join(d for d, spec in all_datasets().items() if param in spec.params)
        p.add_argument(f"--{param.name.replace('_', '-')}", type=type(param.default), default=None,
                       help=_escaped(f"{param.help} {param.tag} (datasets: {users}; default {param.default})"))  # fmt: skip
    for param in all_params().values():
        users = ", ".join(m.name for m in methods.values() if param in m.params)
        p.add_argument(f"--{param.name.replace('_', '-')}", type=type(param.default), default=None,
                       choices=param.choices or None,
                       help=_escaped(f"{param.help} {param.tag} (methods: {users}; default {param.default})"))  # fmt: skip


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    fields = {f.name for f in dataclasses.fields(TrainConfig)} | set(all_params()) | set(dataset_params())
    return TrainConfig(**{k: v for k, v in vars(args).items() if k in fields and v is not None})


def progress_bar():
    """A tqdm bar over training steps with loss, images/s and epoch."""
    from tqdm import tqdm

    bar = None

    def update(p) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=p.total_steps, unit="step", file=sys.stderr, dynamic_ncols=True)
        bar.set_postfix(
            epoch=f"{p.epoch:.2f}", loss=f"{p.loss:.4f}", img_s=f"{p.images_per_s:,.0f}", refresh=False
        )
        bar.update(p.step - bar.n)
        if p.step >= p.total_steps:
            bar.close()

    return update


def format_metrics(run) -> str:
    from lab.view.labels import run_label

    m = run.metrics
    px = m.get("pixels", {})
    lines = [
        f"run {run.id}  ({run_label(run, score=False)})",
        f"  folder:        {run.path}",
        f"  data source:   {run.info.get('data_source')}",
        f"  device:        {m.get('device')}   train {m.get('train_seconds')} s, {m.get('images_per_s'):,} img/s",
        "                 this run   pixels (PCA-64)",
        f"  kNN (k={KNN_K}):    {m['knn_acc']:.4f}     {px.get('knn_acc', float('nan')):.4f}",
        f"  linear probe:  {m['linear_acc']:.4f}     {px.get('linear_acc', float('nan')):.4f}",
    ]
    return "\n".join(lines)


def cmd_train(args) -> int:
    from lab.store.runs import RunStore

    cfg = config_from_args(args)
    store = RunStore(args.runs_dir)
    if args.budget is not None:
        from lab.store.budget import resolve_budget

        if args.epochs is not None:
            raise ValueError(
                "Give --budget SECONDS or --epochs N, not both: a budget decides the epochs itself."
            )
        cfg = resolve_budget(cfg, args.budget, store.root, log=lambda s: print(s, file=sys.stderr))
        print(f"A {args.budget:g}-s budget is {cfg.epochs:g} epochs here.", file=sys.stderr)
    t0 = time.perf_counter()
    run, stored = store.get_or_train(cfg, progress=progress_bar(), status=lambda s: print(s, file=sys.stderr))
    print(
        ("Loaded the stored run" if stored else "Trained and stored")
        + f" in {time.perf_counter() - t0:.1f} s"
    )
    print(format_metrics(run))
    return 0


def cmd_runs(args) -> int:
    from lab.store.runs import RunStore
    from lab.view.labels import run_label

    store = RunStore(args.runs_dir)
    t0 = time.perf_counter()
    found = store.verify_all() if args.verify else store.scan()
    runs = found.runs
    if not runs and not found.damaged and not found.older:
        print("No stored runs yet. Train one: python -m lab train --dataset digits --epochs 5")
        return 0
    nan = float("nan")
    print(f"{'id':12}  {'method':10} {'dataset':14} {'subset':>6} {'seed':>4}  {'kNN':>6} {'linear':>6}  "
          f"{'px kNN':>6} {'px lin':>6}  {'train s':>7}  run")  # fmt: skip
    for r in runs:
        c, m, px = r.config, r.metrics, r.metrics.get("pixels", {})
        print(f"{r.id:12}  {c.method:10} {c.dataset:14} {c.subset or 'all':>6} {c.seed:>4}  "
              f"{m.get('knn_acc', nan):>6.3f} {m.get('linear_acc', nan):>6.3f}  {px.get('knn_acc', nan):>6.3f} "
              f"{px.get('linear_acc', nan):>6.3f}  {m.get('train_seconds', 0):>7}  {run_label(r, among=runs, score=False)}")  # fmt: skip
    if args.verify:
        print(
            f"\nChecked the checksums of {len(runs) + len(found.damaged)} runs in {time.perf_counter() - t0:.1f} s."
        )
    if found.damaged:
        print(f"\nDamaged runs ({len(found.damaged)}): not used; `python -m lab train` with the same config moves "
              "one aside and trains it again.")  # fmt: skip
        for exc in found.damaged:
            print(f"  {exc.rid}  {exc.reason}")
    if found.older:
        print(
            f"\nRuns stored by an older version of the lab ({len(found.older)}): not used; delete them when done."
        )
        for exc in found.older:
            print(f"  {exc.rid}  {exc.reason}")
    return 1 if args.verify and found.damaged else 0


def parse_axes(over: list[str], base: dict) -> dict:
    """--over NAME=V1,V2,... (repeatable) -> {name: [values]}, each value typed like the base config's
    (a field left None, like subset or epochs, takes numbers; "none" gives None)."""
    types = {f.name: {"int | None": int, "float | None": float}.get(str(f.type), type(f.default))
             for f in dataclasses.fields(TrainConfig)} | {n: type(p.default) for n, p in all_params().items()}  # fmt: skip
    from lab.core.config import dataset_params

    types |= {n: type(p.default) for n, p in dataset_params().items()}
    axes = {}
    for item in over or ():
        name, sep, values = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not values.strip():
            raise ValueError(
                f"--over {item!r}: write NAME=V1,V2,... (e.g. --over embedding_size=2,8,32,128)."
            )
        kind = types.get(name, str)
        try:
            axes[name] = [None if v.strip().lower() == "none" else kind(v.strip()) for v in values.split(",")]
        except ValueError as exc:
            raise ValueError(f"--over {item!r}: {exc}") from exc
    return axes


def cmd_sweep(args) -> int:
    from lab.store.runs import RunStore
    from lab.sweep.grid import Sweep, check_budget, plan
    from lab.sweep.report import sweep_table
    from lab.sweep.runner import complete_paper_scores, run_sweep, run_sweep_on_ray

    fields = {f.name for f in dataclasses.fields(TrainConfig)} | set(all_params()) | set(dataset_params())
    base = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    config_from_args(args)  # the shared settings are checked before the axes
    sweep = Sweep(base, parse_axes(args.over, base), run_seconds=args.run_budget)
    store = RunStore(args.runs_dir)
    p = plan(sweep, store)
    left = len(p.configs) - len(p.stored)
    print(f"Sweep {sweep.id}: {len(p.configs)} runs ({len(p.stored)} stored, {left} to train), "
          f"about {p.seconds / 60:.1f} min here.", file=sys.stderr)  # fmt: skip
    if args.dry_run:
        check_budget(p, args.budget_minutes)
        return 0
    if args.ray:
        run_sweep_on_ray(sweep, store, args.ray, log=lambda s: print(s, file=sys.stderr),
                         budget_minutes=args.budget_minutes, num_cpus=args.ray_cpus)  # fmt: skip
    else:
        from tqdm import tqdm

        with tqdm(
            total=1000,
            unit="‰",
            file=sys.stderr,
            dynamic_ncols=True,
            bar_format="{percentage:3.0f}%|{bar}| {desc}",
        ) as bar:

            def show(sp) -> None:
                bar.set_description_str(sp.text, refresh=False)
                bar.update(round(1000 * sp.fraction) - bar.n)

            run_sweep(sweep, store, progress=show, budget_minutes=args.budget_minutes)
    if not args.skip_paper_scores:
        complete_paper_scores(sweep, store, log=lambda s: print(s, file=sys.stderr))
    print(sweep_table(sweep, store))
    return 0


def cmd_reproduce(args) -> int:
    from lab.papers import get_paper

    paper = get_paper(args.paper)
    if args.render_only:
        from lab.papers.reports import render_again

        print(f"Report rewritten from its stored numbers: {render_again(args.paper)}")
        return 0
    path = paper.reproduce(quick=args.quick, runs_dir=args.runs_dir, datasets=tuple(args.dataset or ()) or None,
                           train_progress=progress_bar())  # fmt: skip
    print(f"Report written to {path}")
    return 0


def cmd_bench_paper(args) -> int:
    from lab.papers import get_paper

    paper = get_paper(args.paper)
    if paper.bench is None:
        raise ValueError(f"Paper '{args.paper}' has no benchmark. Papers with one: "
                         f"{', '.join(papers_with_bench()) or 'none yet'}.")  # fmt: skip
    return paper.bench(quick=args.quick) or 0


def papers_with_bench() -> dict:
    from lab.papers import PAPERS

    return {k: p for k, p in PAPERS.items() if p.bench is not None}


def cmd_bench(args) -> int:
    from lab.bench import BENCHES

    return BENCHES[args.command](args) or 0


def build_parser() -> argparse.ArgumentParser:
    from lab.bench import add_bench_commands
    from lab.papers import FAILED, PAPERS

    parser = argparse.ArgumentParser(prog="python -m lab", description="SSL Lab command line")
    parser.add_argument("--runs-dir", default=None, help="run store folder (default $LAB_RUNS_DIR or ./runs)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a run (or load it when stored) and print its metrics")
    _add_train_args(p)
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="train for about this many seconds instead of --epochs: this machine's speed is measured "
                        "once per config and the epochs that fit are stored with the run's config")  # fmt: skip
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("runs", help="list stored runs with their key metrics, and damaged or older ones")
    p.add_argument(
        "--verify", action="store_true", help="check every file's checksum against the run's manifest"
    )
    p.set_defaults(func=cmd_runs)
    p = sub.add_parser("sweep", help="train a grid of configs (reusing stored runs; run it again to resume)",
                       description="The flags of `train` set what every run shares; each --over NAME=V1,V2,... adds "
                       "an axis. Example: python -m lab sweep --dataset digit-on-fashion-mnist --subset 10000 "
                       "--over method=simclr,supcon,joint --over embedding_size=2,8,32,128 --budget-minutes 15")  # fmt: skip
    _add_train_args(p)
    p.add_argument(
        "--over",
        action="append",
        metavar="NAME=V1,V2",
        help="an axis: a config field or parameter and its values",
    )
    p.add_argument(
        "--budget-minutes", type=float, default=None, help="refuse the sweep when its estimate is longer"
    )
    p.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="run each config as a Ray task: 'local' or a cluster's address",
    )
    p.add_argument("--run-budget", type=float, default=None, metavar="SECONDS",
                   help="train each run for about this many seconds instead of epochs (as train --budget)")  # fmt: skip
    p.add_argument("--ray-cpus", type=int, default=None, help="CPUs of a --ray local instance (default: all)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and its estimate, train nothing")
    p.add_argument("--skip-paper-scores", action="store_true",
                   help="print the table without computing the papers' run scores it lacks (M1, M2: a few "
                        "seconds per run)")  # fmt: skip
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser(
        "reproduce", help="re-measure a paper's claims at the lab's scale; writes docs/reproduce/"
    )
    p.add_argument("paper", choices=sorted(k for k, v in PAPERS.items() if v.reproduce) + sorted(FAILED))
    p.add_argument("--quick", action="store_true", help="a small subset and few epochs: minutes on 2 cores")
    p.add_argument("--dataset", action="append", help="default: the paper's (see its report)")
    p.add_argument("--render-only", action="store_true",
                   help="rewrite docs/reproduce/PAPER.md from its stored .json: no training, no measuring")  # fmt: skip
    p.set_defaults(func=cmd_reproduce)
    add_bench_commands(sub, cmd_bench)
    p = sub.add_parser("bench-paper", help="a paper's speed and memory targets, beside their peers")
    p.add_argument("paper", choices=sorted(PAPERS) + sorted(FAILED))
    p.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run")
    p.set_defaults(func=cmd_bench_paper)
    return parser


def main(argv=None) -> int:
    from lab.store.runs import default_root_at

    args = build_parser().parse_args(argv)
    try:
        with default_root_at(args.runs_dir):  # a method's setup finds stored runs there (SePP's sampler run)
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
