"""What a sweep measured: one row per config of its grid (its axes' values, the run's scores, the numbers
papers add to the tables of runs (lab.papers.paper.RunScores: M1 and M2) and, when its dataset has more
label sets, the linear probe of each on h and z), and the lines the app draws from them: a measure against
one axis, one line per value of another (the method), mean and spread over seeds.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from lab.papers import paper_run_scores
from lab.store.baselines import pixel_baseline_of
from lab.store.label_probes import stored_label_probes
from lab.store.runs import RunDamaged, RunStore
from lab.sweep.grid import Sweep, realised_configs

SCORES = {"knn_acc": "kNN accuracy on h (class)", "linear_acc": "linear probe on h (class)",
          "knn_acc_projector": "kNN accuracy on z (class)"}  # fmt: skip


def measure_names(rows: list[dict]) -> dict[str, str]:
    """The measures the rows have: column -> words, the run's scores first, then each label set's probes."""
    found = dict(SCORES) | {c.key: c.label for scores in paper_run_scores() for c in scores.columns}
    for r in rows:
        for k in r:
            if k.startswith("probe:"):
                _, labels, space = k.split(":")
                found[k] = f"linear probe on {'h' if space == 'backbone' else 'z'} ({labels} labels)"
    return {k: v for k, v in found.items() if any(r.get(k) is not None for r in rows)}


def papers_scores(rep) -> dict:
    """{column key: value} of every paper's run scores of a run or pixel baseline, None where not computed
    yet or undefined (lab.papers.paper.RunScores)."""
    out = {}
    for scores in paper_run_scores():
        found = scores.stored(rep) or {}
        out |= {c.key: found.get(c.key) for c in scores.columns}
    return out


def scores_to_compute(rows: list[dict], store: RunStore) -> list[tuple]:
    """(RunScores, run, job params) for each paper's scores that a row's run, or the pixel baseline of the
    first row's images, has not stored yet: the jobs that complete the table."""
    todo = []
    for i, r in enumerate(rows):
        run = store.load(r["run"], check_arrays=False)
        pixels = pixel_baseline_of(run, compute=False) if i == 0 else None
        for scores in paper_run_scores():
            if scores.stored(run) is None:
                todo.append((scores, run, {}))
            if i == 0 and (pixels is None or scores.stored(pixels) is None):
                todo.append((scores, run, {"rep": "pixels"}))
    return todo


def sweep_rows(sweep: Sweep, store: RunStore) -> list[dict]:
    """One dict per stored config of the grid: {"run": id, <axis>: value, ..., <measure>: value}."""
    out = []
    for cfg in realised_configs(sweep, store):
        if cfg is None:  # a budget not measured yet: not trained
            continue
        try:
            run = store.find(cfg)
        except RunDamaged:
            continue
        if run is None:
            continue
        d = cfg.to_dict()
        row = {"run": run.id, **{a: d.get(a) for a in sweep.axes}}
        row |= {k: run.metrics.get(k) for k in SCORES} | papers_scores(run)
        for p in stored_label_probes(run) or ():
            if p["space"] in ("backbone", "projector"):
                row[f"probe:{p['labels']}:{p['space']}"] = p["linear"]
        out.append(row)
    return out


def lines(rows: list[dict], x: str, measure: str, by: str | None) -> dict:
    """{line value: {"x": [...], "mean": [...], "low": [...], "high": [...], "n": [...]}}: the measure
    against axis x, one line per value of axis `by` (one line when None), mean and min-max over the rows
    that share (line, x) (the seeds, and any axis not chosen)."""
    groups: dict = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.get(measure) is not None:
            groups[r.get(by) if by else "all"][r[x]].append(r[measure])
    out = {}
    for line, by_x in groups.items():
        xs = sorted(by_x, key=lambda v: (v is None, v))
        vals = [np.asarray(by_x[v], float) for v in xs]
        out[line] = {"x": xs, "mean": [float(v.mean()) for v in vals], "low": [float(v.min()) for v in vals],
                     "high": [float(v.max()) for v in vals], "n": [len(v) for v in vals]}  # fmt: skip
    return out


def sweep_table(sweep: Sweep, store: RunStore) -> str:
    """The sweep's rows as a plain-text table (the CLI's output)."""
    rows = sweep_rows(sweep, store)
    if not rows:
        return "No run of this sweep is stored yet."
    cols = ["run", *sweep.axes, *measure_names(rows)]
    head = [c.replace("probe:", "").replace(":backbone", " h").replace(":projector", " z") for c in cols]

    def cell(v) -> str:
        return f"{v:.4f}" if isinstance(v, float) else "—" if v is None else str(v)

    table = [head] + [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(len(cols))]
    return "\n".join("  ".join(t[i].ljust(widths[i]) for i in range(len(cols))) for t in table)


def pixel_value(sweep: Sweep, store: RunStore, measure: str) -> float | None:
    """The raw-pixel baseline of a measure on the sweep's images (its first stored run's), or None."""
    rows = sweep_rows(sweep, store)
    if not rows:
        return None
    run = store.load(rows[0]["run"], check_arrays=False)
    if measure.startswith("probe:"):
        labels = measure.split(":")[1]
        found = [
            p["linear"]
            for p in stored_label_probes(run) or ()
            if p["space"] == "pixels" and p["labels"] == labels
        ]
        return found[0] if found else None
    if measure in {c.key for scores in paper_run_scores() for c in scores.columns}:
        pixels = pixel_baseline_of(run, compute=False)
        return None if pixels is None else papers_scores(pixels).get(measure)
    px = run.metrics.get("pixels") or {}
    return px.get("linear_acc" if measure == "linear_acc" else "knn_acc")
