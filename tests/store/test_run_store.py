"""The run store: runs are stored atomically, reused, scored later on request, and a damaged, older
or unwritable folder is said, never crashed on."""

import json

import numpy as np
import pytest
from tiny import TINY

import lab.store.runs
from lab.core.config import TrainConfig
from lab.store.runs import RunDamaged, RunStore, RunStoreError

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_deferred_scores_arrive_later_with_the_same_values(tmp_path, tiny_run, monkeypatch):
    """The app stores a run before its linear probe; completing it gives what scoring at once gives."""
    deferred = RunStore(tmp_path)
    run, _ = deferred.get_or_train(TrainConfig(**TINY), defer_scores=True)
    assert run.pending == ["knn_acc", "knn_acc_projector", "linear_acc"]
    assert not {"knn_acc", "knn_acc_projector", "linear_acc"} & set(run.metrics)
    assert (
        run.metrics["n_test"] == tiny_run.metrics["n_test"]
        and run.features().shape == tiny_run.features().shape
    )
    done = deferred.complete_scores(run.id)
    assert done.pending == [] and "pending_scores" not in json.loads((done.path / "metrics.json").read_text())
    for key in ("knn_acc", "knn_acc_projector", "linear_acc"):
        assert done.metrics[key] == pytest.approx(tiny_run.metrics[key], abs=1e-9), key
    assert not list(done.path.glob(".metrics*")), "no temporary file left behind"

    # a pending run asked for without defer_scores (the CLI, the reproduction) is completed first
    again, _ = deferred.get_or_train(TrainConfig(**TINY), defer_scores=True)
    metrics = dict(again.metrics, pending_scores=["linear_acc"])
    metrics.pop("linear_acc")
    (again.path / "metrics.json").write_text(json.dumps(metrics))
    monkeypatch.setattr(lab.store.runs, "train", lambda *a, **k: pytest.fail("trained again"))
    completed, stored = deferred.get_or_train(TrainConfig(**TINY))
    assert (
        stored and completed.pending == [] and completed.metrics["linear_acc"] == done.metrics["linear_acc"]
    )


def test_second_call_is_served_from_the_store_without_training(store, tiny_run, monkeypatch):
    def no_training(*a, **k):
        raise AssertionError("trained again")

    monkeypatch.setattr(lab.store.runs, "train", no_training)
    run, stored = store.get_or_train(TrainConfig(**TINY))
    assert stored and run.id == tiny_run.id and run.metrics == tiny_run.metrics


def test_an_interrupted_write_leaves_nothing_complete(store, monkeypatch):
    cfg = TrainConfig(**{**TINY, "epochs": 1, "seed": 11})
    real_save = np.save
    calls = {"n": 0}

    def dying_save(path, arr, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if Ctrl-C arrived mid-write
        return real_save(path, arr, **kw)

    monkeypatch.setattr(lab.store.runs.np, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        store.get_or_train(cfg)
    assert not store.path(cfg).exists()
    assert store.find(cfg) is None
    assert not list(store.root.glob(".tmp-*"))


def test_a_corrupt_run_folder_is_reported_and_trained_again(store, tiny_run):
    cfg = TrainConfig(**{**TINY, "epochs": 1, "seed": 12})
    first, _ = store.get_or_train(cfg)
    (first.path / "metrics.json").write_text("{ not json")
    messages = []
    again, stored = store.get_or_train(cfg, status=messages.append)
    assert not stored and json.loads((again.path / "metrics.json").read_text())["knn_acc"] > 0
    assert any(f"Run {first.id} is damaged: metrics.json is not valid JSON" in m and "Moved it aside" in m
               for m in messages), messages  # fmt: skip
    assert list(store.root.glob(f"{first.id}.damaged-*"))
    assert first.id in {r.id for r in store.list()}


def test_a_run_stored_by_an_older_store_version_is_skipped_not_shown(tiny_run, tmp_path):
    """Changing what a stored run means (STORE_VERSION) re-hashes every config: an old folder is
    left alone on disk, left out of the list, and loading it says why."""
    import shutil

    old = tmp_path / "runs" / "0123456789ab"
    shutil.copytree(tiny_run.path, old)
    meta = json.loads((old / "config.json").read_text())
    meta["run_id"] = "0123456789ab"  # what an older STORE_VERSION hashed the same config to
    (old / "config.json").write_text(json.dumps(meta))
    store = RunStore(tmp_path / "runs")
    assert store.list() == []
    assert [e.rid for e in store.scan().older] == ["0123456789ab"]
    with pytest.raises(ValueError, match="stored by an older version of the lab"):
        store.load("0123456789ab")
    assert old.is_dir()


def test_an_unwritable_runs_folder_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(RunStoreError, match="Set LAB_RUNS_DIR"):
        RunStore(blocker / "runs").get_or_train(TrainConfig(**{**TINY, "epochs": 1}))


# ---------------------------------------------------------------- verification (issue 18)
def _copy(run, root):
    import shutil

    dest = root / run.id
    shutil.copytree(run.path, dest)
    return RunStore(root)


def test_every_run_carries_a_manifest_of_its_files(tiny_run):
    doc = json.loads((tiny_run.path / "manifest.json").read_text())
    names = set(doc["files"])
    assert {"weights.safetensors", "features.npy", "config.json", "labels.npy"} <= names
    assert "metrics.json" not in names  # rewritten when the scores arrive: checked by parsing
    assert all(doc["files"][n]["size"] == (tiny_run.path / n).stat().st_size for n in names)


def test_a_truncated_weights_file_is_found_by_name(tiny_run, tmp_path):
    store = _copy(tiny_run, tmp_path)
    w = tmp_path / tiny_run.id / "weights.safetensors"
    w.write_bytes(w.read_bytes()[:1000])
    with pytest.raises(RunDamaged, match=r"weights.safetensors is 1,000 bytes; the manifest says [\d,]+"):
        store.load(tiny_run.id)
    assert [e.rid for e in store.scan().damaged] == [tiny_run.id] and store.list() == []


def test_changed_bytes_of_the_same_size_are_found_by_the_first_full_check(tiny_run, tmp_path):
    store = _copy(tiny_run, tmp_path)
    f = tmp_path / tiny_run.id / "features.npy"
    data = bytearray(f.read_bytes())
    data[-5] ^= 0xFF
    f.write_bytes(bytes(data))
    store.load(tiny_run.id, verify="sizes")  # sizes alone cannot see it
    with pytest.raises(RunDamaged, match="features.npy does not match its checksum"):
        store.load(tiny_run.id, verify="full")
    assert [e.rid for e in store.verify_all().damaged] == [tiny_run.id]


def test_the_first_read_of_a_changed_file_is_checked_and_the_next_load_says_so(tiny_run, tmp_path):
    """A file's checksum is checked on its first read in a process, beside the caller's use of the bytes;
    a mismatch makes the run's next load (a page's next rerun) raise RunDamaged, naming the file."""
    from lab.store.manifest import forget_checked, wait_for_checks

    store = _copy(tiny_run, tmp_path)
    f = tmp_path / tiny_run.id / "embeddings.npy"
    data = bytearray(f.read_bytes())
    data[-9] ^= 0x10
    f.write_bytes(bytes(data))
    forget_checked()
    run = store.load(tiny_run.id)  # sizes are right
    run.features("projector")
    wait_for_checks()
    with pytest.raises(RunDamaged, match="embeddings.npy does not match its checksum"):
        store.load(tiny_run.id)
    assert [e.rid for e in store.scan().damaged] == [tiny_run.id]


def test_a_folder_from_before_manifests_is_checked_by_structure_and_gets_one(tiny_run, tmp_path):
    store = _copy(tiny_run, tmp_path)
    folder = tmp_path / tiny_run.id
    (folder / "manifest.json").unlink()
    assert store.load(tiny_run.id).id == tiny_run.id
    found = store.verify_all()
    assert [r.id for r in found.runs] == [tiny_run.id] and (folder / "manifest.json").is_file()
    (folder / "manifest.json").unlink()
    emb = folder / "embeddings.npy"
    emb.write_bytes(emb.read_bytes()[:-100])
    with pytest.raises(RunDamaged, match=r"embeddings.npy is [\d,]+ bytes; its header says"):
        store.load(tiny_run.id)


def test_a_served_array_survives_its_file_being_truncated_afterwards(tiny_run, tmp_path):
    """Memory-mapped, a truncated features.npy ended the whole server with SIGBUS (exit 135). The
    lab reads arrays whole: a download after the truncation serves what was read, or says the run is
    damaged; the process lives on either way."""
    import subprocess
    import sys

    _copy(tiny_run, tmp_path)
    script = f"""
import sys
from pathlib import Path
from lab.store.export import npy_bytes
from lab.store.runs import RunDamaged, RunStore
store = RunStore({str(tmp_path)!r})
first = store.load({tiny_run.id!r})
first.features()  # read before the damage, as the app has when a user downloads
second = store.load({tiny_run.id!r})  # loaded, not read yet
f = Path({str(tmp_path)!r}) / {tiny_run.id!r} / "features.npy"
f.write_bytes(f.read_bytes()[:4096])
assert len(npy_bytes(first.features())) > 100_000
try:
    npy_bytes(second.features())
except RunDamaged as exc:
    print("said:", exc)
print("alive")
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    assert (
        "said: Run" in out.stdout
        and "is damaged: features.npy is 4,096 bytes" in out.stdout
        and "alive" in out.stdout
    )


def test_a_subset_at_or_above_the_dataset_size_is_the_whole_set():
    from lab.store.runs import run_id

    whole = TrainConfig(dataset="digits", epochs=3)
    for n in (1442, 100_000):
        cfg = TrainConfig(dataset="digits", epochs=3, subset=n)
        assert cfg.subset is None and run_id(cfg) == run_id(whole)
    assert TrainConfig(dataset="fashion-mnist", subset=70_000).subset is None
    assert TrainConfig(dataset="digits", subset=1441).subset == 1441
