"""SePP's methods: registration, refusals before training, samplers (another dataset's run, a learned
sampler not stored yet, any stored run named by its id), what a run records, and the run ids stored
before the sampler run existed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lab.core.config import TrainConfig, protocol_config
from lab.core.methods import get_method
from lab.papers.sepp2023.samplers import run_sampler_features, sampler_config, stored_sampler_run


def test_sepp_methods_are_registered_with_their_parameters():
    simclr, vicreg = get_method("sepp-simclr"), get_method("sepp-vicreg")
    assert [p.name for p in simclr.params][:3] == ["temperature", "sepp_sampler", "sepp_sampler_run"]
    assert not simclr.uses_labels
    assert {p.name for p in vicreg.params} == {p.name for p in simclr.params} - {"temperature"}
    cfg = TrainConfig(method="sepp-simclr")
    assert (cfg.param("sepp_sampler"), cfg.param("sepp_k"), cfg.param("sepp_mode")) == ("pixels", 5, "add")


def test_bad_partner_settings_are_refused_before_training():
    with pytest.raises(ValueError, match=r"sepp_quantile must be in \[0, 1\]; got 1.2"):
        TrainConfig(method="sepp-simclr", sepp_quantile=1.2)
    with pytest.raises(ValueError, match="sepp_k = 20 partners per image needs more than 20 training images"):
        TrainConfig(method="sepp-simclr", sepp_k=20, subset=20)
    with pytest.raises(ValueError, match="sepp_mutual on needs sepp_k of 2 or more"):
        TrainConfig(method="sepp-simclr", sepp_k=1, sepp_mutual="on")
    with pytest.raises(ValueError, match="sepp_sampler must be one of"):
        TrainConfig(method="sepp-simclr", sepp_sampler="imagenet")


def test_a_learned_sampler_is_the_same_settings_with_the_samplers_method():
    cfg = TrainConfig(method="sepp-simclr", dataset="digits", epochs=3, batch_size=128, sepp_sampler="simclr")
    scfg = sampler_config(cfg)
    assert scfg.method == "simclr" and (scfg.epochs, scfg.batch_size, scfg.dataset) == (3, 128, "digits")
    assert scfg == TrainConfig(method="simclr", dataset="digits", epochs=3, batch_size=128)


def test_a_learned_sampler_not_stored_yet_says_how_to_train_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_RUNS_DIR", str(tmp_path))
    cfg = TrainConfig(method="sepp-simclr", dataset="digits", sepp_sampler="simclr")
    with pytest.raises(
        ValueError, match=r"Train it first \(`python -m lab train --method simclr --dataset digits"
    ):
        stored_sampler_run(cfg)


def test_a_sampler_run_from_another_dataset_is_refused_by_name():
    run = SimpleNamespace(id="abc123", config=SimpleNamespace(dataset="mnist"))
    dataset = SimpleNamespace(name="fashion-mnist")
    with pytest.raises(
        ValueError, match="sampler run abc123 was trained on mnist, but this run trains on fashion-mnist"
    ):
        run_sampler_features(run, dataset, torch.device("cpu"))


@pytest.mark.trains
def test_a_sepp_run_records_its_pairs_and_sampler():
    from lab.core.train import train

    result = train(TrainConfig(dataset="digits", method="sepp-simclr", epochs=1, batch_size=256, sepp_k=3))
    rec = result.method_metrics
    assert rec["sampler"] == "pixels" and rec["sampler_run"] is None
    assert 0.5 < rec["pair_precision"] <= 1 and rec["coverage"] == 1.0 and rec["mean_partners"] == 3.0
    pairs = np.asarray(rec["pairs_sample"])
    assert pairs.shape == (64, 2) and (pairs[:, 0] != pairs[:, 1]).all()


def test_sepp_with_a_stored_simclr_sampler_uses_that_runs_features(tiny_run, store, monkeypatch):
    from tiny import TINY

    from lab.core.data import load_dataset
    from lab.papers.sepp2023.samplers import partners_for

    monkeypatch.setenv("LAB_RUNS_DIR", str(store.root))
    cfg = TrainConfig(method="sepp-simclr", sepp_sampler="simclr", **TINY)
    mined = partners_for(cfg, load_dataset("digits"), torch.device("cpu"))
    assert mined.record["sampler_run"] == tiny_run.id and mined.record["sampler"] == "simclr"
    assert 0 < mined.record["pair_precision"] <= 1


def run_sampler(rid: str, **settings) -> TrainConfig:
    """A SePP-SimCLR config whose partners come from the stored run `rid`."""
    return TrainConfig(method="sepp-simclr", sepp_sampler="run", sepp_sampler_run=rid, **settings)


def test_the_sampler_run_stays_out_of_the_run_id_at_its_default():
    from lab.store.runs import run_id

    default = protocol_config(method="sepp-simclr")
    assert "sepp_sampler_run" not in default.key() and default.param("sepp_sampler_run") == ""
    assert run_id(default) == "36e1cca70c38"  # the id the protocol's SePP-SimCLR run had before the parameter
    a, b = run_sampler("0123456789ab"), run_sampler("ba9876543210")
    assert a.key()["sepp_sampler_run"] == "0123456789ab" and len({run_id(default), run_id(a), run_id(b)}) == 3
    assert "sepp_sampler_run" not in TrainConfig(method="simclr").key()


def test_a_sampler_run_is_named_exactly_when_the_sampler_is_run():
    with pytest.raises(ValueError, match="sepp_sampler 'run' mines with a stored run's backbone: name it with "
                                         "sepp_sampler_run"):  # fmt: skip
        TrainConfig(method="sepp-simclr", sepp_sampler="run")
    with pytest.raises(ValueError, match="sepp_sampler_run 0123456789ab is used only by sepp_sampler 'run', but "
                                         "the sampler is 'pixels'"):  # fmt: skip
        TrainConfig(method="sepp-simclr", sepp_sampler_run="0123456789ab")
    with pytest.raises(ValueError, match="sepp_sampler_run must be a run id, 12 hex digits"):
        run_sampler("not-a-run")


def test_a_sampler_run_that_is_not_stored_is_refused_by_id(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_RUNS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"The sampler run 0123456789ab is not stored in .*: name one trained "
                                         "on digits"):  # fmt: skip
        stored_sampler_run(run_sampler("0123456789ab", dataset="digits"))


def test_a_sampler_run_of_another_dataset_is_refused_before_any_image_is_read(tiny_run, store, monkeypatch):
    monkeypatch.setenv("LAB_RUNS_DIR", str(store.root))
    cfg = run_sampler(tiny_run.id, dataset="fashion-mnist", subset=1000)
    with pytest.raises(ValueError, match=f"sampler run {tiny_run.id} was trained on digits, but this run trains "
                                         "on fashion-mnist"):  # fmt: skip
        stored_sampler_run(cfg)


def test_any_stored_run_of_the_dataset_can_be_the_sampler(tiny_run, store, monkeypatch):
    """The stored 6-epoch SimCLR run mines for a SePP run of other epochs on a subset: its weights embed the
    subset's images, and the run records the sampler run's id."""
    from lab.core.data import load_dataset
    from lab.core.models import embed
    from lab.papers.sepp2023.partners import mine_partners
    from lab.papers.sepp2023.samplers import partners_for

    monkeypatch.setenv("LAB_RUNS_DIR", str(store.root))
    cfg = run_sampler(tiny_run.id, dataset="digits", subset=500, epochs=2)
    subset, cpu = load_dataset("digits", 500, 0), torch.device("cpu")
    mined = partners_for(cfg, subset, cpu)
    assert mined.record["sampler"] == "run" and mined.record["sampler_run"] == tiny_run.id
    features = embed(tiny_run.load_model(), subset.train_images, cpu)[0].numpy()
    assert np.array_equal(mined.partners.idx, mine_partners(features, 5).idx)
    assert mined.partners.idx.shape == (500, 5) and 0.5 < mined.record["pair_precision"] <= 1
