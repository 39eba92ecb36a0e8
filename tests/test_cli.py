"""The command line (python -m lab): its flags come from the registries, bad input is one clear line
and exit status 2, and a tiny run trains and prints its scores beside the pixels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lab.__main__ import build_parser, main
from lab.core.methods import all_params
from lab.papers import PAPERS

REPO = Path(__file__).resolve().parents[1]


def test_every_method_parameter_and_every_paper_is_a_choice():
    parser = build_parser()
    train = parser.parse_args(["train"])
    assert {p for p in all_params()} <= set(vars(train)), "a flag per method parameter"
    assert train.method == "simclr" and train.epochs is None and train.temperature is None
    for key in PAPERS:
        assert parser.parse_args(["reproduce", key]).paper == key
    with pytest.raises(SystemExit):
        parser.parse_args(["reproduce", "nosuchpaper"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["train", "--method", "simclrr"], "Unknown method 'simclrr'. Choose one of"),
     (["train", "--dataset", "digits", "--alpha", "2"], r"alpha must be in \[0, 1\]"),
     (["train", "--dataset", "digitz"], "Unknown dataset 'digitz'"),
     (["train", "--dataset", "digits", "--method", "sepp-simclr", "--sepp-sampler", "run"],
      "sepp_sampler 'run' mines with a stored run's backbone: name it with sepp_sampler_run"),
     (["train", "--dataset", "digits", "--method", "sepp-simclr", "--sepp-sampler", "run", "--sepp-sampler-run",
       "0123456789ab"], "The sampler run 0123456789ab is not stored in .*/test_bad_input.*: name one trained on digits")],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_status_2(argv, message, capsys, tmp_path):
    assert main(["--runs-dir", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert __import__("re").search(message, err), err


def test_runs_on_an_empty_folder_says_how_to_train_one(capsys, tmp_path):
    assert main(["--runs-dir", str(tmp_path / "none"), "runs"]) == 0
    assert "No stored runs yet. Train one: python -m lab train" in capsys.readouterr().out


@pytest.mark.trains
def test_a_tiny_run_trains_then_is_found_and_listed(tmp_path):
    cmd = [sys.executable, "-m", "lab", "--runs-dir", str(tmp_path), "train", "--dataset", "digits",
           "--subset", "500", "--epochs", "2", "--batch-size", "128", "--seed", "5"]  # fmt: skip
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "Trained and stored" in first.stdout and "pixels (PCA-64)" in first.stdout
    assert "step" in first.stderr  # tqdm's bar
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert "Loaded the stored run" in again.stdout
    listed = subprocess.run([sys.executable, "-m", "lab", "--runs-dir", str(tmp_path), "runs"], capture_output=True,
                            text=True, cwd=REPO, timeout=120)  # fmt: skip
    assert "simclr · digits · p=128 · 500 imgs" in listed.stdout and "seed 5" in listed.stdout


def test_runs_lists_damaged_and_older_runs_apart_and_verify_fails_on_damage(tiny_run, tmp_path, capsys):
    import json
    import shutil

    for name in ("good", "bad"):
        shutil.copytree(
            tiny_run.path, tmp_path / tiny_run.id if name == "good" else tmp_path / "bad000000000"
        )
    meta = json.loads((tmp_path / "bad000000000" / "config.json").read_text())
    (tmp_path / "bad000000000" / "metrics.json").write_text("{ garbage")
    old = tmp_path / "old000000000"
    shutil.copytree(tiny_run.path, old)
    (old / "config.json").write_text(json.dumps({**meta, "run_id": "old000000000"}))
    assert main(["--runs-dir", str(tmp_path), "runs"]) == 0
    out = capsys.readouterr().out
    assert tiny_run.id in out.split("Damaged runs")[0] and " digits " in out and "   all " in out
    assert "Damaged runs (1)" in out and "bad000000000  metrics.json is not valid JSON" in out
    assert "older version of the lab (1)" in out and "old000000000" in out
    assert main(["--runs-dir", str(tmp_path), "runs", "--verify"]) == 1
    assert "Checked the checksums of 2 runs" in capsys.readouterr().out
