"""The on-disk run store: one folder per run, named by a hash of its normalised config.

runs/<id>/  (or $LAB_RUNS_DIR/<id>/)
  config.json          the full config, plus code version, data source, device, wall time
  weights.safetensors  encoder weights (never pickle)
  features.npy         backbone features h of the evaluation images [N_train + N_test, F] float32
  embeddings.npy       projector outputs z, same rows [.., p] (float16 when p > 256, to keep runs small)
  labels.npy, is_test.npy, index.npy   label, split and row-in-split of every evaluation image
  losses.npy           loss per step
  metrics.json         kNN / linear accuracy beside the raw-pixel baseline, time, images/s

A run is written into a temporary folder and renamed when complete, so an interrupted or failed
run never looks complete. A folder that fails to load is moved aside and trained again.
A lock per run id makes two callers asking for the same config train it once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from lab.core.config import TrainConfig
from lab.core.data import Dataset, load_dataset
from lab.core.device import pick_device
from lab.core.models import Encoder, embed
from lab.core.train import Progress, build_model, train
from lab.measures.probes.scores import score, score_first, score_rest
from lab.store.atomic import folder_atomically, save_text_atomically
from lab.store.baselines import pixel_baseline
from lab.store.provenance import code_version

STORE_VERSION = 2  # bump when stored files change meaning; part of every run id
REQUIRED_FILES = (
    "config.json", "weights.safetensors", "features.npy", "embeddings.npy", "labels.npy",
    "is_test.npy", "index.npy", "losses.npy", "metrics.json",
)  # fmt: skip


SPACES = ("backbone", "projector")  # h: the backbone's features; z: the projector's embeddings
PENDING = "pending_scores"  # metrics.json key: the scores a run stored with defer_scores still lacks
DEFERRED_SCORES = ("knn_acc", "knn_acc_projector", "linear_acc")


def check_space(space: str) -> None:
    if space not in SPACES:
        raise ValueError(f"Unknown space '{space}'. Choose one of: {', '.join(SPACES)}.")


class RunStoreError(RuntimeError):
    """The runs folder cannot be used (unwritable, full, ...); the message says what to do."""


def run_id(cfg: TrainConfig) -> str:
    key = json.dumps({"store": STORE_VERSION, **cfg.key()}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def default_root() -> Path:
    return Path(os.environ.get("LAB_RUNS_DIR", "runs"))


@dataclass
class Run:
    """A stored run. Arrays load lazily (memory-mapped) the first time they are asked for."""

    path: Path
    config: TrainConfig
    info: dict  # config.json's extra fields: code version, data source, device, wall time
    metrics: dict
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        return self.path.name

    def _array(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = np.load(self.path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
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

    def images(self) -> torch.Tensor:
        """uint8 [N, C, H, W] images of the evaluation rows, in the stored order."""
        ds = load_dataset(self.config.dataset, self.config.subset, self.config.seed)
        return torch.cat([ds.train_images, ds.test_images])

    def load_model(self) -> Encoder:
        ds = load_dataset(self.config.dataset, self.config.subset, self.config.seed)
        model = build_model(self.config, ds)
        model.load_state_dict(load_file(self.path / "weights.safetensors"))
        return model.eval()

    @property
    def pending(self) -> list[str]:
        """Scores not computed yet (stored with defer_scores; RunStore.complete_scores adds them)."""
        return list(self.metrics.get(PENDING, []))


class RunStore:
    """Runs on disk under `root` (default: $LAB_RUNS_DIR or ./runs)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()

    def path(self, cfg: TrainConfig) -> Path:
        return self.root / run_id(cfg)

    # ---- reading -----------------------------------------------------------------------------
    def load(self, rid: str, check_arrays: bool = True) -> Run:
        """Load a complete run; raises ValueError naming the problem when the folder is not one.
        `check_arrays=False` reads the JSON files only (the arrays load when first used)."""
        path = self.root / rid
        missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
        if missing:
            raise ValueError(f"Run folder {path} is incomplete: missing {', '.join(missing)}.")
        try:
            meta = json.loads((path / "config.json").read_text())
            metrics = json.loads((path / "metrics.json").read_text())
            cfg = TrainConfig.from_dict(meta["config"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"Run folder {path} is corrupt: {exc}") from exc
        if meta.get("run_id") != run_id(cfg):  # hashed under another STORE_VERSION
            raise ValueError(
                f"Run folder {path} was stored by another version of the lab (its config now hashes "
                f"to {run_id(cfg)}; store version {STORE_VERSION}). Train the config again; delete the "
                "old folder when done with it."
            )
        run = Run(path, cfg, {k: v for k, v in meta.items() if k != "config"}, metrics)
        if not check_arrays:
            return run
        try:
            n = len(run.labels)
            if run.features().shape[0] != n or run.features("projector").shape[0] != n:
                raise ValueError("feature rows do not match the labels")
        except ValueError as exc:
            raise ValueError(f"Run folder {path} is corrupt: {exc}") from exc
        return run

    def find(self, cfg: TrainConfig) -> Run | None:
        """The stored run of this config, or None. A corrupt folder is moved aside (and reported
        through the returned None plus a `*.corrupt-*` folder), never crashed on."""
        path = self.path(cfg)
        if not path.exists():
            return None
        try:
            return self.load(path.name)
        except ValueError:
            self._quarantine(path)
            return None

    def list(self) -> list[Run]:
        """Every complete run, newest first; incomplete or corrupt folders are skipped."""
        runs = []
        if not self.root.is_dir():
            return runs
        for p in self.root.iterdir():
            if p.is_dir() and not p.name.startswith((".", "_")) and ".corrupt-" not in p.name:
                with contextlib.suppress(ValueError):
                    runs.append(self.load(p.name))
        return sorted(runs, key=lambda r: r.info.get("finished_at", 0), reverse=True)

    def _quarantine(self, path: Path) -> Path:
        dest = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        path.rename(dest)
        return dest

    # ---- writing -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self, rid: str) -> Iterator[None]:
        locks = self.root / ".locks"
        try:
            locks.mkdir(parents=True, exist_ok=True)
            fh = open(locks / f"{rid}.lock", "w")  # noqa: SIM115 — held for the whole block
        except OSError as exc:
            raise RunStoreError(f"Cannot write to the runs folder {self.root}: {exc}. "
                                "Set LAB_RUNS_DIR to a writable folder.") from exc  # fmt: skip
        try:
            fcntl.flock(fh, fcntl.LOCK_EX)  # a second caller with the same config waits here
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    def get_or_train(
        self,
        cfg: TrainConfig,
        progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        status: Callable[[str], None] | None = None,
        defer_scores: bool = False,
    ) -> tuple[Run, bool]:
        """The run of `cfg`: loaded when stored, trained and stored otherwise.
        Returns (run, was_stored). `status` receives short messages about the phases.
        defer_scores: store the run as soon as it is embedded and leave its scores (kNN accuracy
        on h and z, the linear probe: DEFERRED_SCORES) to `complete_scores`. The app maps the run
        first: on the default run the scores take about 11 s, 1.7 s of them the kNN accuracy on h,
        which the map would otherwise wait for. Without it, a stored run that still lacks them is
        completed before it is returned."""
        say = status or (lambda _msg: None)
        rid = run_id(cfg)
        with self._lock(rid):
            path = self.root / rid
            if path.exists():
                try:
                    run = self.load(rid)
                except ValueError as exc:
                    moved = self._quarantine(path)
                    say(f"{exc} Moved it to {moved.name} and training again.")
                else:
                    if run.pending and not defer_scores:
                        say("Scoring the run...")
                        run = self._complete_scores(run)
                    return run, True
            result = train(cfg, progress, should_stop)
            say(
                "Embedding the evaluation images..."
                if defer_scores
                else "Embedding the evaluation images and scoring them..."
            )
            return self._store(cfg, result, defer_scores), False

    def complete_scores(self, rid: str) -> Run:
        """Add the scores a run stored with defer_scores lacks, rewriting its metrics.json atomically
        (a reader sees the old file or the new one, never half of one). Returns the run, reloaded."""
        with self._lock(rid):
            return self._complete_scores(self.load(rid))

    def _complete_scores(self, run: Run) -> Run:
        if not run.pending:
            return run
        started = time.perf_counter()
        h, z, labels, is_test = run.features(), run.features("projector"), run.labels, run.is_test
        metrics = {k: v for k, v in run.metrics.items() if k != PENDING}
        if "knn_acc" not in metrics:
            metrics.update(score_first(h, labels, is_test))
        metrics.update(score_rest(h, z, labels, is_test))
        metrics["eval_seconds"] = round(metrics.get("eval_seconds", 0) + time.perf_counter() - started, 2)
        try:
            save_text_atomically(run.path / "metrics.json", json.dumps(metrics, indent=2))
        except OSError as exc:
            raise RunStoreError(f"Could not update the scores of run {run.id}: {exc}. Free some disk space "
                                "and open the run again.") from exc  # fmt: skip
        return self.load(run.id)

    def _store(self, cfg: TrainConfig, result, defer_scores: bool = False) -> Run:
        ds: Dataset = result.dataset
        device = pick_device(cfg.device)
        started = time.perf_counter()
        images = torch.cat([ds.train_images, ds.test_images])
        h, z = embed(result.model, images, device)
        h, z = h.numpy(), z.numpy()
        labels = torch.cat([ds.train_labels, ds.test_labels]).numpy()
        is_test = np.r_[np.zeros(len(ds.train_labels), bool), np.ones(len(ds.test_labels), bool)]
        train_index = ds.train_index if ds.train_index is not None else torch.arange(len(ds.train_labels))
        index = np.r_[train_index.numpy(), np.arange(len(ds.test_labels))]
        if defer_scores:
            metrics = {
                "n_train": int((~is_test).sum()),
                "n_test": int(is_test.sum()),
                PENDING: list(DEFERRED_SCORES),
            }
        else:
            metrics = score(h, z, labels, is_test)
        metrics.update(
            train_seconds=round(result.train_seconds, 2),
            images_per_s=round(result.images_per_s, 1),
            steps=result.steps,
            device=result.device,
            final_loss=result.losses[-1],
            pixels=pixel_baseline(cfg.dataset, cfg.subset, cfg.seed, root=self.root),
        )
        if result.method_metrics:
            metrics["method"] = result.method_metrics
        metrics["eval_seconds"] = round(time.perf_counter() - started, 2)
        meta = {
            "config": cfg.to_dict(),
            "run_id": run_id(cfg),
            "code_version": code_version(),
            "data_source": ds.source,
            "device": result.device,
            "finished_at": time.time(),
            "train_seconds": round(result.train_seconds, 2),
        }
        arrays = {
            "features": h.astype(np.float32),
            "embeddings": z.astype(np.float16 if z.shape[1] > 256 else np.float32),
            "labels": labels.astype(np.int64),
            "is_test": is_test,
            "index": index.astype(np.int64),
            "losses": np.asarray(result.losses, dtype=np.float32),
        }
        state = {k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()}
        return self._write_atomically(run_id(cfg), meta, metrics, arrays, state)

    def _write_atomically(self, rid: str, meta: dict, metrics: dict, arrays: dict, state: dict) -> Run:
        try:
            with folder_atomically(
                self.root / rid, make_room=self._quarantine
            ) as tmp:  # a stale folder moves aside
                save_file(state, tmp / "weights.safetensors")
                for name, arr in arrays.items():
                    np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
                (tmp / "config.json").write_text(json.dumps(meta, indent=2))
                (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2))  # written last
        except OSError as exc:
            raise RunStoreError(f"Could not store run {rid} in {self.root}: {exc}. Nothing was kept; "
                                "free some disk space or set LAB_RUNS_DIR, then train again.") from exc  # fmt: skip
        return self.load(rid)

    def clean_temporary(self) -> int:
        """Remove leftovers of interrupted writes (never complete runs). Returns how many."""
        n = 0
        if self.root.is_dir():
            for p in self.root.glob(".tmp-*"):
                shutil.rmtree(p, ignore_errors=True)
                n += 1
        return n
