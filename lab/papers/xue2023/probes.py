"""The subclass probe over training for Xue et al. 2023 (C2: subclass features are learned early and
unlearned later), from a run's snapshots (lab.core.snapshots). Cached with the run:

  <run>/analysis/vxue-<N>/curve-<labels>.json   the probe on each snapshot: steps, accuracy, collapse drop

The per-label-set probes of a run (coarse, fine, garment, digit on h and z) are the lab's own
(lab.store.label_probes). docs/science.md, "Xue 2023".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lab.papers.xue2023.constants import ANALYSIS_VERSION
from lab.store.atomic import save_json_atomically
from lab.store.derived import derived_path, load_json
from lab.store.label_probes import snapshot_probe


def _path(run, name: str):
    return derived_path(run, name, f"xue-{ANALYSIS_VERSION}")


def stored_curve(run, labels: str = "fine") -> dict | None:
    doc = load_json(_path(run, f"curve-{labels}.json"))
    return doc if isinstance(doc, dict) else None


def subclass_curve(
    run, labels: str = "fine", progress: Callable[[float, str], None] | None = None
) -> dict | None:
    """The linear probe of one label set ("fine": the subclasses) on each snapshot of the run, cached.
    Fits on the snapshot's training rows, scores on its test rows. None when the run has no snapshots;
    ValueError when its dataset has no such labels.
    Returns {"labels", "steps", "accuracy", "max", "final", "collapse_drop"} (drop = max - final)."""
    cached = stored_curve(run, labels)
    if cached is not None:
        return cached
    sets = run.label_sets()
    if labels not in sets:
        raise ValueError(f"Run {run.id} was trained on {run.config.dataset}, which has no '{labels}' labels "
                         f"(it has: {', '.join(sets)}). Subclass probes need a dataset with fine labels: "
                         "fashion-mnist-coarse or cifar100-coarse.")  # fmt: skip
    snaps = run.snapshots()
    if snaps is None:
        return None
    y, is_test = sets[labels][0][snaps.rows], np.asarray(run.is_test)[snaps.rows]
    acc = []
    for i, feats in enumerate(snaps.features):
        if progress is not None:
            progress(i / len(snaps.features), f"Probing snapshot {i + 1} of {len(snaps.features)}...")
        acc.append(snapshot_probe(feats, y, is_test))
    doc = {"labels": labels, "steps": [int(s) for s in snaps.steps], "accuracy": acc, "max": max(acc),
           "final": acc[-1], "collapse_drop": max(acc) - acc[-1]}  # fmt: skip
    save_json_atomically(_path(run, f"curve-{labels}.json"), doc)
    return doc
