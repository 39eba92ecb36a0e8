"""lab.view.labels.run_label: a run's name shows what differs from the default config, and within a
list whatever tells two runs apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.core.config import TrainConfig
from lab.store.runs import run_id
from lab.view.labels import run_label


@dataclass
class Named:
    config: TrainConfig
    metrics: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return run_id(self.config)

    @property
    def path(self) -> Path:
        return Path("runs") / self.id


def test_the_default_config_reads_method_dataset_p_and_its_score():
    assert run_label(Named(TrainConfig(), {"knn_acc": 0.8412})) == "simclr · fashion · p=128 · 84.1%"
    assert run_label(Named(TrainConfig(method="supervised"))) == "supervised · fashion · p=128 · scoring"


def test_settings_a_user_changed_are_shown():
    label = run_label(Named(TrainConfig(aug_strength=0.3, subset=2000, temperature=0.5, seed=4)), score=False)
    assert label == "simclr · fashion · p=128 · 2,000 imgs · s=0.3 · seed 4 · T=0.5"


def test_a_sepp_run_names_its_sampler_and_the_run_it_mined_with():
    sampler = {"sepp_sampler": "run", "sepp_sampler_run": "abcdef123456"}
    label = run_label(Named(TrainConfig(method="sepp-simclr", params=sampler)), score=False)
    assert label == "sepp-simclr · fashion · p=128 · sampler run abcdef"
    label = run_label(Named(TrainConfig(method="sepp-simclr", params={"sepp_sampler": "simclr"})), score=False)
    assert label == "sepp-simclr · fashion · p=128 · sampler simclr"


def test_two_runs_that_differ_only_in_seed_read_differently():
    a, b = (Named(TrainConfig(dataset="digits", epochs=3, seed=s)) for s in (11, 12))
    assert run_label(a, among=[a, b]) != run_label(b, among=[a, b])
    assert "seed 11" in run_label(a, among=[a, b]) and "seed 12" in run_label(b, among=[a, b])


def test_a_list_adds_what_tells_its_runs_apart_and_nothing_else():
    base = dict(dataset="digits", epochs=3)
    a, b = Named(TrainConfig(**base, lr=1e-3)), Named(TrainConfig(**base, lr=2e-3))
    c = Named(TrainConfig(**base, method="supervised"))
    labels = [run_label(r, among=[a, b, c], score=False) for r in (a, b, c)]
    assert len(set(labels)) == 3 and "lr=0.001" in labels[0] and "lr=0.002" in labels[1]
    assert labels[2] == "supervised · digits · p=128 · 3 ep"


def test_the_id_can_be_appended_for_tables():
    r = Named(TrainConfig())
    assert run_label(r, score=False, ident=True).endswith(f"({r.id[:6]})")
