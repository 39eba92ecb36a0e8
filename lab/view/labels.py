"""How a run is named on screen and in the CLI: one function, `run_label`.

A label says the method, the dataset and the embedding size p, then every setting that differs
from the default config of that method and dataset (what a user varies: augmentation strength,
subset, seed, temperature, ...), then, within a list, whatever else tells the run apart from the
runs listed beside it, and its kNN accuracy. The pixel baseline is "pixels (PCA-64)".
"""

from __future__ import annotations

from lab.store.baselines import PIXELS_NAME, PixelBaseline

SHORT_DATASETS = {"fashion-mnist": "fashion"}
# How a config field reads in a label; fields not named here read "name=value".
FIELD_TEXT = {
    "subset": lambda v: f"{v:,} imgs" if v else "all imgs",
    "encoder": lambda v: f"{v}",
    "width": lambda v: f"w={v}",
    "aug_strength": lambda v: f"s={v:g}",
    "batch_size": lambda v: f"batch {v}",
    "epochs": lambda v: f"{v:.3g} ep",  # a time budget resolves to epochs like 3.75987: 3.76 reads
    "lr": lambda v: f"lr={v:g}",
    "weight_decay": lambda v: f"wd={v:g}",
    "seed": lambda v: f"seed {v}",
    "snapshots": lambda v: f"{v} snapshots",
    "temperature": lambda v: f"T={v:g}",
    "alpha": lambda v: f"α={v:g}",
    "sepp_sampler": lambda v: f"sampler {v}",
    "sepp_sampler_run": lambda v: f"sampler run {v[:6]}",
}
ALWAYS = ("method", "dataset", "embedding_size")
SAYS_ALSO = {"sepp_sampler_run": "sepp_sampler"}  # a field whose text already says the other's value


def _config_dict(run) -> dict:
    cfg = run.config
    if hasattr(cfg, "key"):
        return cfg.key()
    return {k: v for k, v in vars(cfg).items() if k != "device"}  # a stand-in config (tests, tools)


def _default_dict(values: dict) -> dict:
    from lab.core.config import default_config

    try:
        return default_config(values["dataset"], values["method"]).key()
    except (KeyError, ValueError):  # an unknown dataset or method: nothing to compare with
        return {}


def _text(name: str, value) -> str:
    fmt = FIELD_TEXT.get(name)
    return fmt(value) if fmt is not None else f"{name}={value}"


def distinguishing_fields(run, among=()) -> list[str]:
    """The config fields a label of `run` shows besides method, dataset and p: those that differ
    from the default config, then those that differ from another run in `among` whose label would
    otherwise read the same."""
    mine = _config_dict(run)
    default = _default_dict(mine)
    # a field the default leaves out (a parameter of an option, such as the sampler's run) shows when set
    shown = [k for k in mine if k not in ALWAYS and default
             and (mine[k] != default[k] if k in default else mine[k] is not None)]  # fmt: skip
    others = [r for r in among if r is not run and not isinstance(r, PixelBaseline) and r.id != run.id]
    for other in others:
        theirs = _config_dict(other)
        if any(theirs.get(k) != mine.get(k) for k in (*ALWAYS, *shown)):
            continue  # already told apart
        shown += [k for k in mine if k not in ALWAYS and k not in shown and theirs.get(k) != mine[k]]
    return [k for k in shown if not any(SAYS_ALSO.get(other) == k for other in shown)]


def run_label(run, among=(), score: bool = True, ident: bool = False) -> str:
    """The run's name for lists, legends, tables and the CLI (see the module's docstring).

    among: the runs listed together with this one, so that two runs never read the same.
    score: append the kNN accuracy on h (or "scoring" while it is computed).
    ident: append the first 6 characters of the run id, for tables that must be traced back.
    """
    if isinstance(run, PixelBaseline):
        return PIXELS_NAME
    values = _config_dict(run)
    parts = [str(values.get("method", "?"))]
    if "dataset" in values:
        parts.append(SHORT_DATASETS.get(values["dataset"], values["dataset"]))
    if "embedding_size" in values:
        parts.append(f"p={values['embedding_size']}")
    parts += [_text(k, values[k]) for k in distinguishing_fields(run, among)]
    if score:
        knn = getattr(run, "metrics", {}).get("knn_acc")
        parts.append(f"{knn:.1%}" if knn is not None else "scoring")
    label = " · ".join(parts)
    return f"{label} ({run.id[:6]})" if ident else label
