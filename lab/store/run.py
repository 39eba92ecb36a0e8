"""One stored run as the rest of the lab reads it, and what can be wrong with a run folder.

A Run's arrays are read whole into memory the first time they are asked for, never memory-mapped: a
file truncated after it was mapped ends the process with SIGBUS, which Python cannot catch, and a
server must not die of a damaged file (NOTES.md). Sizes were checked against the folder's manifest
when the run was loaded (lab.store.manifest); the first read of a file in a process also checks its
checksum, on the bytes it read anyway, on a thread beside the caller's use of them; a mismatch makes
the run's next load (the next rerun of a page) say it is damaged, and so does a file that no longer
has its stored size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import safetensors.torch
import torch
from safetensors import SafetensorError

from lab.core.config import TrainConfig
from lab.core.data import load_dataset
from lab.core.models import Encoder
from lab.core.train import build_model
from lab.store.manifest import check_later, checked, failure, npy_from_buffer

SPACES = ("backbone", "projector")  # h: the backbone's features; z: the projector's embeddings
PENDING = "pending_scores"  # metrics.json key: the scores a run stored with defer_scores still lacks
DEFERRED_SCORES = ("knn_acc", "knn_acc_projector", "linear_acc")


def check_space(space: str) -> None:
    if space not in SPACES:
        raise ValueError(f"Unknown space '{space}'. Choose one of: {', '.join(SPACES)}.")


class RunStoreError(RuntimeError):
    """The runs folder cannot be used (unwritable, full, ...); the message says what to do."""


class RunDamaged(ValueError):
    """A run folder failed verification: a file missing, truncated, changed or unreadable."""

    def __init__(self, rid: str, reason: str, config: dict | None = None):
        super().__init__(f"Run {rid} is damaged: {reason}.")
        self.rid, self.reason, self.config = rid, reason, config


class RunOlderVersion(ValueError):
    """A run folder stored by an earlier version of the lab (its config hashes to another id now)."""

    def __init__(self, rid: str, reason: str):
        super().__init__(f"Run {rid} was stored by an older version of the lab: {reason}.")
        self.rid, self.reason = rid, reason


@dataclass
class Run:
    """A stored run. Arrays are read whole, once, the first time they are asked for (see the module)."""

    path: Path
    config: TrainConfig
    info: dict  # config.json's extra fields: code version, data source, device, wall time
    metrics: dict
    manifest: dict | None = None  # the folder's manifest (lab.store.manifest), when it has one
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        return self.path.name

    def read_bytes(self, name: str) -> np.ndarray:
        """A file of the run, read whole into a writable buffer and, the first time this process reads
        it, checked against the manifest's checksum on those same bytes (no second read)."""
        path = self.path / name
        try:
            with open(path, "rb") as f:
                data = np.empty(os.fstat(f.fileno()).st_size, dtype=np.uint8)  # not zeroed: filled below
                f.readinto(memoryview(data))
        except OSError as exc:
            raise RunDamaged(self.id, f"{name} cannot be read ({exc})") from exc
        want = (self.manifest or {}).get("files", {}).get(name)
        if want is not None:
            if len(data) != want["size"]:
                raise RunDamaged(
                    self.id, f"{name} is {len(data):,} bytes; the manifest says {want['size']:,}"
                )
            if (why := failure(path)) is not None:
                raise RunDamaged(self.id, why)
            if not checked(path):
                check_later(path, data, want)  # beside the caller's use of the bytes: see check_later
        return data

    def _array(self, name: str) -> np.ndarray:
        if name not in self._cache:
            data = self.read_bytes(f"{name}.npy")
            try:
                self._cache[name] = npy_from_buffer(data)
            except ValueError as exc:  # truncated or overwritten since it was loaded
                raise RunDamaged(self.id, f"{name}.npy cannot be read ({exc})") from exc
        return self._cache[name]

    def features(self, space: str = "backbone") -> np.ndarray:
        """h ('backbone') or z ('projector') of all evaluation images, float32 [N, d]."""
        check_space(space)
        return np.asarray(self._array("features" if space == "backbone" else "embeddings"), dtype=np.float32)

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self._array("labels"))

    @property
    def is_test(self) -> np.ndarray:
        return np.asarray(self._array("is_test"))

    @property
    def index(self) -> np.ndarray:
        return np.asarray(self._array("index"))

    @property
    def losses(self) -> np.ndarray:
        return np.asarray(self._array("losses"))

    def label_sets(self) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
        """Every labelling of the run's rows: "class" (what it trained on) and the dataset's other label
        sets (e.g. "fine" subclasses, "digit"): name -> (labels [N], class names)."""
        sets = {"class": (self.labels, tuple(self.info.get("classes") or ()))}
        for name, names in (self.info.get("label_sets") or {}).items():
            sets[name] = (np.asarray(self._array(f"labels-{name}")), tuple(names))
        return sets

    def snapshots(self):
        """The probe set's features during training (lab.core.snapshots.Snapshots), or None when the run
        was trained without them (`--snapshots N`)."""
        from lab.core.snapshots import Snapshots

        if not (self.path / "snapshots" / "steps.npy").is_file():
            return None
        feats = self._array("snapshots/features")
        return Snapshots(self._array("snapshots/rows"), self._array("snapshots/steps").tolist(), list(feats))

    def images(self) -> torch.Tensor:
        """uint8 [N, C, H, W] images of the evaluation rows, in the stored order."""
        ds = load_dataset(self.config.dataset, self.config.subset, self.config.seed)
        return torch.cat([ds.train_images, ds.test_images])

    def load_model(self) -> Encoder:
        ds = load_dataset(self.config.dataset, self.config.subset, self.config.seed)
        model = build_model(self.config, ds)
        data = self.read_bytes("weights.safetensors")
        try:
            state = safetensors.torch.load(data.tobytes())
        except SafetensorError as exc:
            raise RunDamaged(self.id, f"weights.safetensors cannot be read ({exc})") from exc
        model.load_state_dict(state)
        return model.eval()

    @property
    def pending(self) -> list[str]:
        """Scores not computed yet (stored with defer_scores; RunStore.complete_scores adds them)."""
        return list(self.metrics.get(PENDING, []))
