"""SePP's partners on constructed data with known neighbours: oracle pairs are all correct, random pairs
at chance, mined pairs of separated clusters correct; the threshold and the mutual filter."""

from __future__ import annotations

import numpy as np
import pytest

from lab.papers.sepp2023.partners import (
    mine_partners,
    mutual_mask,
    oracle_partners,
    pair_precision,
    random_partners,
)


def clusters(n_classes: int = 10, per_class: int = 100, spread: float = 0.05, seed: int = 0):
    """Points around one orthogonal direction per class: every nearest neighbour shares the class."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), per_class)
    return np.eye(n_classes)[y] + spread * rng.normal(size=(len(y), n_classes)), y


def test_oracle_pairs_have_precision_one_and_never_pair_an_image_with_itself():
    _, y = clusters()
    p = oracle_partners(y, k=5, seed=0)
    assert pair_precision(p, y) == 1.0 and p.coverage == 1.0 and p.mean_partners == 5.0
    assert not (p.idx == np.arange(len(y))[:, None]).any()


def test_random_pairs_are_at_chance():
    _, y = clusters(n_classes=10, per_class=500)
    p = random_partners(len(y), k=5, seed=0)
    assert pair_precision(p, y) == pytest.approx(0.1, abs=0.01)
    assert not (p.idx == np.arange(len(y))[:, None]).any()


def test_mined_pairs_of_separated_clusters_are_all_same_class():
    x, y = clusters()
    p = mine_partners(x, k=5)
    assert pair_precision(p, y) == 1.0 and p.coverage == 1.0 and p.idx.shape == (1000, 5)


def test_the_quantile_threshold_keeps_the_most_similar_pairs():
    x, y = clusters(spread=0.3)
    every = mine_partners(x, k=5)
    top = mine_partners(x, k=5, quantile=0.8)
    assert top.mean_partners == pytest.approx(1.0, abs=0.05)  # about a fifth of the 5 per image
    kept = top.sims[top.idx >= 0]
    assert kept.min() >= top.threshold and top.threshold == pytest.approx(np.quantile(every.sims, 0.8))
    assert (top.idx[:, :1] >= 0).sum() >= (top.idx >= 0).any(1).sum()  # kept partners come first
    assert mine_partners(x, k=5, quantile=1.0).mean_partners < 0.01


def test_a_threshold_quantile_outside_zero_one_is_refused():
    x, _ = clusters()
    with pytest.raises(ValueError, match=r"quantile must be in \[0, 1\]; got 1.5"):
        mine_partners(x, k=5, quantile=1.5)


def test_the_mutual_filter_keeps_pairs_that_are_each_others_neighbours():
    idx = np.array([[1], [0], [1]])  # 0 <-> 1 mutual; 2 -> 1 is not returned
    assert mutual_mask(idx).tolist() == [[True], [True], [False]]
    x, _ = clusters(spread=0.3)
    both = mine_partners(x, k=5, mutual=True)
    assert both.mean_partners < 5 and (both.idx >= 0).sum() <= (mine_partners(x, k=5).idx >= 0).sum()


def test_k_must_leave_other_images():
    with pytest.raises(ValueError, match="needs more than k images"):
        mine_partners(np.eye(4), k=4)


def test_a_representation_is_scored_as_a_sampler_over_the_grid_and_cached(tmp_path):
    from types import SimpleNamespace

    from lab.papers.sepp2023.analysis import GRID_K, run_sampler_quality, stored_sampler_quality

    x, y = clusters(per_class=30)
    rep = SimpleNamespace(
        path=tmp_path, labels=y, is_test=np.arange(len(y)) % 3 == 0, features=lambda space: x
    )
    q = run_sampler_quality(rep)
    assert len(q["rows"]) == len(GRID_K) * 4 and q["oracle"] == 1.0 and q["n"] == 200
    assert all(
        r["pair_precision"] == 1.0 for r in q["rows"] if r["k"] <= 5
    )  # 20 same-class training images each
    assert stored_sampler_quality(rep) == q


def test_the_partners_do_not_depend_on_the_number_of_faiss_threads():
    """Runs mine on one thread or on one per core depending on the load (samplers.mining_threads): the
    partners must be the same, so a run's partners never depend on what else the machine was doing."""
    x = np.random.default_rng(0).normal(size=(3000, 64)).astype(np.float32)
    one, two = mine_partners(x, 5, threads=1), mine_partners(x, 5, threads=2)
    assert np.array_equal(one.idx, two.idx) and np.array_equal(one.sims, two.sims)


def test_mining_takes_one_thread_while_the_cores_are_busy(monkeypatch):
    import os

    from lab.papers.sepp2023.samplers import mining_threads

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.4, 2.0, 2.0))
    assert mining_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.9, 2.0, 2.0))
    assert mining_threads() is None
