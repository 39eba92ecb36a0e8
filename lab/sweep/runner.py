"""Running a sweep: its missing configs trained and stored one after another (the CLI, or the app's
worker one run per job so that other work can go between two runs), or each as a Ray task on a cluster.
Stored runs are reused, so running a sweep again resumes it. After each run, the probes of every label
set its dataset carries are stored with it (lab.store.label_probes), for the sweep's lines.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from lab.core.config import TrainConfig
from lab.store.budget import resolve_budget
from lab.store.runs import Run, RunStore, run_id
from lab.sweep.grid import (
    Sweep,
    check_budget,
    estimate_seconds,
    images_per_s,
    plan,
    realised_configs,
    save_sweep,
)


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands: runs stored of the grid, the share of its estimated time done, and an ETA."""

    stored: int
    total: int
    fraction: float
    eta_s: float
    text: str


def probe_labels(run: Run) -> None:
    """The run's per-label-set probes (h, z and pixels), when its dataset has more than one label set."""
    from lab.store.baselines import pixel_baseline_of
    from lab.store.label_probes import label_probes

    if len(run.label_sets()) > 1:
        label_probes(run, pixel_baseline_of(run))


def train_next(sweep: Sweep, store: RunStore, progress: Callable[[SweepProgress], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> tuple[Run | None, int]:  # fmt: skip
    """Train and store the sweep's first missing config (then its label probes); returns (the run, how
    many configs are still missing after it). (None, 0) when nothing is missing."""
    p = plan(sweep, store)
    left = p.left
    if not left:
        return None, 0
    cfg, speed = left[0], images_per_s(store, p.configs[0].encoder, p.configs[0].width)

    def cost(c: TrainConfig) -> float:
        return estimate_seconds(c, speed) if sweep.run_seconds is None else sweep.run_seconds

    costs = [cost(c) for c in left]
    total_s = sum(cost(c) for c in p.configs)
    if sweep.run_seconds is not None:
        cfg = resolve_budget(cfg, sweep.run_seconds, store.root)
    done_s = total_s - sum(costs)

    def step(pr) -> None:
        if progress is None:
            return
        inside = costs[0] * pr.step / max(pr.total_steps, 1)
        left_s = sum(costs) - inside
        what = ", ".join(f"{k}={cfg.to_dict()[k]}" for k in sweep.axes)
        progress(SweepProgress(len(p.stored), len(p.configs), (done_s + inside) / total_s, left_s,
                               f"Sweep: run {len(p.stored) + 1} of {len(p.configs)} ({what}) · "
                               f"about {_minutes(left_s)} left"))  # fmt: skip

    run, _ = store.get_or_train(cfg, progress=step, should_stop=should_stop)
    probe_labels(run)
    return run, len(left) - 1


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def run_sweep(sweep: Sweep, store: RunStore, progress: Callable[[SweepProgress], None] | None = None,
              should_stop: Callable[[], bool] | None = None, budget_minutes: float | None = None) -> list[str]:  # fmt: skip
    """Train everything the sweep lacks, one config after another; returns every run id of the grid.
    Refused (ValueError, with the estimate) before any training when over budget_minutes."""
    check_budget(plan(sweep, store), budget_minutes)
    save_sweep(sweep, store, "running")
    while True:
        run, left = train_next(sweep, store, progress, should_stop)
        if run is None or left == 0:
            break
    save_sweep(sweep, store, "done")
    return [run_id(c) for c in realised_configs(sweep, store) if c is not None]


def _train_remote(config: dict, root: str, run_seconds: float | None = None) -> str:
    """One config, trained and stored into the shared runs folder, then its label probes (a Ray task);
    with a time budget, this node's speed decides its epochs."""
    cfg = TrainConfig.from_dict(config)
    if run_seconds is not None:
        cfg = resolve_budget(cfg, run_seconds, root)
    run, _ = RunStore(root).get_or_train(cfg)
    probe_labels(run)
    return run.id


def run_sweep_on_ray(sweep: Sweep, store: RunStore, address: str, log: Callable[[str], None] = print,
                     budget_minutes: float | None = None, num_cpus: int | None = None) -> list[str]:  # fmt: skip
    """Each missing config as one Ray task (a GPU each when the cluster has GPUs), all writing into the
    same runs folder, which every node must see at the same path; the store's lock and atomic rename
    keep concurrent writers apart. address: "local" (a Ray instance on this machine) or a cluster's.
    The budget is checked before Ray is reached, the address before anything trains."""
    p = plan(sweep, store)
    check_budget(p, budget_minutes)
    ray = connect_ray(address, num_cpus)
    gpus = ray.cluster_resources().get("GPU", 0)
    task = ray.remote(num_gpus=1 if gpus else 0, num_cpus=1)(_train_remote)
    left = p.left
    log(
        f"Ray: {len(left)} tasks ({len(p.stored)} runs already stored), {'a GPU each' if gpus else 'CPU only'}."
    )
    save_sweep(sweep, store, "running")
    pending = [task.remote(c.to_dict(), str(store.root.resolve()), sweep.run_seconds) for c in left]
    start = time.perf_counter()
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        log(f"Ray: stored run {ray.get(ready[0])} ({len(left) - len(pending)} of {len(left)}, "
            f"{time.perf_counter() - start:.0f} s)")  # fmt: skip
    save_sweep(sweep, store, "done")
    return [run_id(c) for c in realised_configs(sweep, store) if c is not None]


def connect_ray(address: str, num_cpus: int | None = None):
    """ray, connected to `address` ("local" starts one here, with num_cpus); ValueError saying what
    failed otherwise. Each task's worker imports this repository's `lab` (its folder on PYTHONPATH)."""
    try:
        import ray
    except ImportError as exc:
        raise ValueError("Ray is not installed: pip install -r requirements.txt (it pins ray).") from exc
    if ray.is_initialized():
        return ray
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}}
    kwargs = {"include_dashboard": False, "log_to_driver": False, "runtime_env": env}
    if address != "local":
        check_reachable(address)
    try:
        if address == "local":
            ray.init(num_cpus=num_cpus, **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except Exception as exc:  # ConnectionError, RuntimeError, ...: whatever Ray raises for a bad address
        raise ValueError(f"Could not reach a Ray cluster at '{address}': {exc}. Check the address "
                         "(`ray status` on the head node prints it), or use --ray local.") from exc  # fmt: skip
    return ray


def check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """A TCP connection to a Ray address ("host:port", "ray://host:port"; port 6379 when none) within
    timeout_s, else ValueError. ray.init itself retries an unreachable address for minutes."""
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "6379")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as exc:
        raise ValueError(f"Could not reach a Ray cluster at '{address}' ({exc}). Check the address (`ray status` on "
                         "the head node prints it) and that this machine can reach it, or use --ray local.") from exc  # fmt: skip


def complete_paper_scores(sweep: Sweep, store: RunStore, log: Callable[[str], None] = print) -> int:
    """Compute the papers' run scores (M1, M2: lab.papers.paper.RunScores) that the sweep's stored runs lack,
    in this process, by the same job kinds the app's worker runs; returns how many runs were scored. The
    pixel baseline's are left to the app, which draws them (the CLI's table has no pixel row)."""
    from lab.papers import paper_job_kinds
    from lab.sweep.report import scores_to_compute, sweep_rows
    from lab.worker.job import JobRequest

    kinds = {k.name: k for k in paper_job_kinds()}
    todo = [(s, run) for s, run, params in scores_to_compute(sweep_rows(sweep, store), store) if not params]
    started = time.perf_counter()
    for i, (scores, run) in enumerate(todo):
        log(f"{scores.title} of run {run.id} ({i + 1} of {len(todo)})...")
        req = JobRequest(kind=scores.job_kind, key=f"{run.id}/{scores.job_kind}", store=store,
                         emit=lambda **_: None, should_stop=lambda: False, run_id=run.id)  # fmt: skip
        kinds[scores.job_kind].work(req)
    if todo:
        titles = " and ".join(sorted({s.title for s, _ in todo}))
        log(f"{titles} of {len(todo)} runs in {_minutes(time.perf_counter() - started)}.")
    return len(todo)
