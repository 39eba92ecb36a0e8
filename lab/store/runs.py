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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from lab.core.config import TrainConfig
from lab.core.data import Dataset
from lab.core.device import pick_device
from lab.core.models import embed
from lab.core.train import Progress, train
from lab.measures.probes.scores import score, score_first, score_rest
from lab.store.atomic import folder_atomically, save_text_atomically
from lab.store.baselines import pixel_baseline
from lab.store.manifest import (
    checksum_problems,
    listed_files,
    npy_shape,
    read_manifest,
    size_problems,
    structure_problems,
    write_manifest,
)
from lab.store.provenance import code_version
from lab.store.run import (
    DEFERRED_SCORES,
    PENDING,
    SPACES,
    Run,
    RunDamaged,
    RunOlderVersion,
    RunStoreError,
    check_space,
)

STORE_VERSION = 2  # bump when stored files change meaning; part of every run id
REQUIRED_FILES = (
    "config.json", "weights.safetensors", "features.npy", "embeddings.npy", "labels.npy",
    "is_test.npy", "index.npy", "losses.npy", "metrics.json",
)  # fmt: skip


def run_id(cfg: TrainConfig) -> str:
    key = json.dumps({"store": STORE_VERSION, **cfg.key()}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass
class Scan:
    """What a runs folder holds: complete runs, and folders that are not, with the reason."""

    runs: list[Run]
    damaged: list[RunDamaged]
    older: list[RunOlderVersion]


def default_root() -> Path:
    return Path(os.environ.get("LAB_RUNS_DIR", "runs"))


@contextlib.contextmanager
def default_root_at(root: str | Path | None):
    """$LAB_RUNS_DIR = root while the block runs (None: unchanged), so that a method's setup finding stored
    runs through RunStore() (SePP's sampler run) looks in the store the command trains into."""
    old = os.environ.get("LAB_RUNS_DIR")
    if root is not None:
        os.environ["LAB_RUNS_DIR"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("LAB_RUNS_DIR", None)
        else:
            os.environ["LAB_RUNS_DIR"] = old


class RunStore:
    """Runs on disk under `root` (default: $LAB_RUNS_DIR or ./runs)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()

    def path(self, cfg: TrainConfig) -> Path:
        return self.root / run_id(cfg)

    # ---- reading -----------------------------------------------------------------------------
    def load(self, rid: str, check_arrays: bool = True, verify: str = "auto") -> Run:
        """Load a complete run, checked against its manifest (lab.store.manifest).

        verify: "sizes" (every file's size: a stat each, and any checksum this process found wrong),
        "auto" (sizes now; each file's checksum on its first read in this process, on the bytes read
        anyway: Run.read_bytes), or "full" (every checksum now: `python -m lab runs --verify`). check_arrays=False reads the JSON files only (the
        app's event thread, which must not parse .npy headers). Raises RunDamaged (what is wrong, by
        file) or RunOlderVersion; never returns a run whose files differ from what was stored."""
        path = self.root / rid
        missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
        if missing:
            raise RunDamaged(rid, f"missing {', '.join(missing)}")
        try:
            meta = json.loads((path / "config.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RunDamaged(rid, f"config.json is not valid JSON ({exc})") from exc
        try:
            metrics = json.loads((path / "metrics.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RunDamaged(rid, f"metrics.json is not valid JSON ({exc})", meta.get("config")) from exc
        try:
            cfg = TrainConfig.from_dict(meta["config"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RunDamaged(rid, f"config.json does not hold a valid config ({exc})") from exc
        if meta.get("run_id") != run_id(cfg):  # hashed under another STORE_VERSION
            raise RunOlderVersion(rid, f"its config now hashes to {run_id(cfg)} (store version {STORE_VERSION}); "
                                       "train the config again and delete the old folder when done with it")  # fmt: skip
        run = Run(path, cfg, {k: v for k, v in meta.items() if k != "config"}, metrics)
        if check_arrays:
            self._verify(run, verify)
        return run

    def _verify(self, run: Run, verify: str) -> None:
        """Check the run's files against its manifest (a folder from before manifests: by structure)."""
        try:
            run.manifest = read_manifest(run.path)
        except ValueError as exc:
            raise RunDamaged(run.id, str(exc), run.config.to_dict()) from exc
        if run.manifest is None:
            problems = structure_problems(run.path, listed_files(run.path))
        elif verify == "full":
            problems = checksum_problems(run.path, run.manifest)
        else:  # config.json was just read: its checksum costs nothing; the rest on their first read
            problems = size_problems(run.path, run.manifest)
            if not problems and verify == "auto":
                problems = checksum_problems(run.path, run.manifest, names={"config.json"})
        if problems:
            raise RunDamaged(run.id, "; ".join(problems), run.config.to_dict())
        try:  # rows as the headers declare them: the arrays themselves are read when first used
            rows = {
                n: npy_shape(run.path / f"{n}.npy")[0]
                for n in ("labels", "is_test", "index", "features", "embeddings")
            }
        except (OSError, ValueError, IndexError) as exc:
            raise RunDamaged(run.id, f"an array header cannot be read ({exc})", run.config.to_dict()) from exc
        if len(set(rows.values())) != 1:
            raise RunDamaged(
                run.id, f"its arrays disagree on the number of images: {rows}", run.config.to_dict()
            )

    def find(self, cfg: TrainConfig) -> Run | None:
        """The stored run of this config, or None when it is not stored. Raises RunDamaged when its
        folder fails verification (get_or_train moves it aside and says so)."""
        path = self.path(cfg)
        return self.load(path.name) if path.exists() else None

    def scan(self, verify: str = "sizes") -> Scan:
        """Every run folder, sorted into complete runs (newest first), damaged ones and ones stored by
        an older version of the lab, each with its reason. Leftovers of interrupted writes and folders
        moved aside are not listed."""
        found = Scan([], [], [])
        if not self.root.is_dir():
            return found
        for p in sorted(self.root.iterdir()):
            if (
                not p.is_dir()
                or p.name.startswith((".", "_"))
                or ".corrupt-" in p.name
                or ".damaged-" in p.name
            ):
                continue
            try:
                found.runs.append(self.load(p.name, verify=verify))
            except RunDamaged as exc:
                found.damaged.append(exc)
            except RunOlderVersion as exc:
                found.older.append(exc)
        found.runs.sort(key=lambda r: r.info.get("finished_at", 0), reverse=True)
        return found

    def list(self) -> list[Run]:
        """Every complete run, newest first (scan() says which folders are damaged or older, and why)."""
        return self.scan().runs

    def verify_all(self) -> Scan:
        """Check every run's checksums (`python -m lab runs --verify`); a folder stored before manifests,
        once it passes the structural checks, gets its manifest."""
        found = self.scan(verify="full")
        for run in found.runs:
            if read_manifest(run.path) is None:
                with contextlib.suppress(OSError):  # a read-only runs folder: checked, just not upgraded
                    write_manifest(run.path)
        return found

    def move_aside(self, rid: str) -> Path:
        """Move a damaged run folder out of the store's way (`<id>.damaged-<time>`), keeping its files."""
        path = self.root / rid
        dest = path.with_name(f"{path.name}.damaged-{int(time.time())}")
        path.rename(dest)
        return dest

    _quarantine = move_aside

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
        on_snapshot: Callable | None = None,
    ) -> tuple[Run, bool]:
        """The run of `cfg`: loaded when stored, trained and stored otherwise.
        Returns (run, was_stored). `status` receives short messages about the phases; `on_snapshot`
        each snapshot as training takes it (lab.core.train.train).
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
                except RunDamaged as exc:
                    moved = self.move_aside(rid)
                    say(f"{exc} Moved it aside to {moved.name}; training the config again.")
                else:
                    if run.pending and not defer_scores:
                        say("Scoring the run...")
                        run = self._complete_scores(run)
                    return run, True
            result = train(cfg, progress, should_stop, on_snapshot)
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
        device = pick_device()  # where this process computes, whatever the run trained on
        if "knn_acc" not in metrics:
            metrics.update(score_first(h, labels, is_test, device))
        metrics.update(score_rest(h, z, labels, is_test, device))
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
            metrics = score(h, z, labels, is_test, device)
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
            "classes": list(ds.classes),
            "label_sets": {k: list(names) for k, (_, _, names) in ds.extra_labels.items()},
            "device": result.device,
            "finished_at": time.time(),
            "train_seconds": round(result.train_seconds, 2),
        }
        arrays = {
            "features": h.astype(np.float32),
            "embeddings": z.astype(np.float16 if z.shape[1] > 256 else np.float32),
            "labels": labels.astype(np.int64),
            **{
                f"labels-{k}": np.r_[tr.numpy(), te.numpy()].astype(np.int64)
                for k, (tr, te, _) in ds.extra_labels.items()
            },
            "is_test": is_test,
            "index": index.astype(np.int64),
            "losses": np.asarray(result.losses, dtype=np.float32),
        }
        snaps = result.snapshots.completed(h) if result.snapshots is not None else None
        if snaps is not None and snaps.steps:  # lab.core.snapshots's format
            arrays.update({"snapshots/rows": snaps.rows.astype(np.int64),
                           "snapshots/steps": np.asarray(snaps.steps, np.int64),
                           "snapshots/features": snaps.stacked()})  # fmt: skip
        state = {k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()}
        return self._write_atomically(run_id(cfg), meta, metrics, arrays, state)

    def _write_atomically(self, rid: str, meta: dict, metrics: dict, arrays: dict, state: dict) -> Run:
        try:
            with folder_atomically(
                self.root / rid, make_room=self._quarantine
            ) as tmp:  # a stale folder moves aside
                save_file(state, tmp / "weights.safetensors")
                for name, arr in arrays.items():  # a name may be in a subfolder: "snapshots/steps"
                    (tmp / name).parent.mkdir(exist_ok=True)
                    np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
                (tmp / "config.json").write_text(json.dumps(meta, indent=2))
                (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2))
                write_manifest(tmp)  # last: each file's size and checksum, inside the rename
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


__all__ = [  # the store's names, re-exported: lab.store.run defines the run itself
    "DEFERRED_SCORES", "PENDING", "SPACES", "STORE_VERSION", "Run", "RunDamaged", "RunOlderVersion",
    "RunStore", "RunStoreError", "Scan", "check_space", "default_root", "run_id",
]  # fmt: skip
