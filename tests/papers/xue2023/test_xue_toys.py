"""The linear toys of Xue et al. 2023 (lab.papers.xue2023.toys, toys_fs, toy_spectral): the spectral losses
against hand computation, their closed form against sampled views, the gradient against autograd, the
probe against sklearn, the spec's signs on both toys, and the cache keyed by every setting."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from lab.papers.xue2023 import toy_jobs, toys, toys_fs
from lab.papers.xue2023.toy_spectral import (
    Group,
    expected_gradient,
    expected_loss,
    logistic_accuracy,
    spectral_gd,
    spectral_joint,
    spectral_scl,
    spectral_ucl,
)
from lab.papers.xue2023.toys import CCConfig, cc_result, cc_summary, run_cc, stored_cc
from lab.papers.xue2023.toys_fs import FSConfig, fs_data, fs_moments, fs_result, run_fs, stored_fs

F1 = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
F2 = torch.tensor([[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]])
LABELS = torch.tensor([0, 0, 1])


def pair_loops(f1, f2, positive) -> float:
    """The spectral loss by explicit loops over pairs: −2 mean over positive pairs + mean over all pairs."""
    n = len(f1)
    pos = [float(f1[i] @ f2[j]) for i in range(n) for j in range(n) if positive(i, j)]
    neg = [float(f1[i] @ f2[j]) ** 2 for i in range(n) for j in range(n)]
    return -2 * sum(pos) / len(pos) + sum(neg) / len(neg)


# ---------------------------------------------------------------- losses
def test_spectral_ucl_on_two_points_by_hand():
    f1, f2 = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    # positives: 1·1 and 1·1 -> mean 1; all pairs: 1, 1, 0, 1 squared -> mean 3/4
    assert float(spectral_ucl(f1, f2)) == pytest.approx(-2 * 1 + 0.75)


def test_spectral_losses_equal_their_definitions_over_pairs():
    assert float(spectral_ucl(F1, F2)) == pytest.approx(pair_loops(F1, F2, lambda i, j: i == j))
    assert float(spectral_scl(F1, F2, LABELS)) == pytest.approx(
        pair_loops(F1, F2, lambda i, j: LABELS[i] == LABELS[j])
    )


def test_scl_with_every_label_distinct_equals_ucl():
    f1, f2 = torch.randn(6, 3), torch.randn(6, 3)
    assert float(spectral_scl(f1, f2, torch.arange(6))) == pytest.approx(
        float(spectral_ucl(f1, f2)), abs=1e-6
    )


def test_joint_at_alpha_0_and_1_equals_ucl_and_scl():
    f1, f2, y = torch.randn(10, 4), torch.randn(10, 4), torch.randint(0, 3, (10,))
    assert float(spectral_joint(f1, f2, y, 0.0)) == pytest.approx(float(spectral_ucl(f1, f2)), abs=1e-6)
    assert float(spectral_joint(f1, f2, y, 1.0)) == pytest.approx(float(spectral_scl(f1, f2, y)), abs=1e-6)
    half = 0.5 * spectral_scl(f1, f2, y) + 0.5 * spectral_ucl(f1, f2)
    assert float(spectral_joint(f1, f2, y, 0.5)) == pytest.approx(float(half), abs=1e-6)


def test_the_closed_form_is_the_mean_of_the_loss_over_sampled_views():
    """E over the augmentations (noise on both views, view 2 redrawing the easy part with chance q) of the
    sampled joint loss equals −2 tr(W C Wᵀ) + ⟨W T Wᵀ, W T₂ Wᵀ⟩."""
    torch.manual_seed(0)
    cfg = FSConfig(k_e=2, n=6)
    gen = torch.Generator().manual_seed(1)
    x, e, y = (v.double() if v.is_floating_point() else v for v in fs_data(cfg.n, cfg, gen))
    mom = fs_moments(x.float(), e.float(), y, cfg)
    w = 0.3 * torch.randn(3, cfg.d, dtype=torch.float64)
    alpha, q, s = 0.4, 0.3, cfg.aug_noise
    losses = []
    for _ in range(10):  # 10 × 20,000 draws of both views of every example
        shape = (20_000, cfg.n, cfg.d)
        a1 = x + s * torch.randn(shape, dtype=torch.float64)
        swap = (torch.rand(shape[:2] + (1,)) < q).double()
        fresh = torch.zeros(shape, dtype=torch.float64)
        fresh[..., : cfg.k_e] = cfg.easy_scale * torch.randn(shape[:2] + (cfg.k_e,), dtype=torch.float64)
        a2 = x + swap * (fresh - e) + s * torch.randn(shape, dtype=torch.float64)
        losses.append(spectral_joint(a1 @ w.T, a2 @ w.T, y, alpha))
    sampled = torch.cat(losses)
    exact = expected_loss(w[None].float(), mom.c(alpha, q)[None], mom.t, mom.t2(q)[None])
    assert float(sampled.mean()) == pytest.approx(
        float(exact), abs=4 * float(sampled.std()) / len(sampled) ** 0.5
    )


def test_the_gradient_in_closed_form_matches_autograd_dense_and_structured():
    torch.manual_seed(0)
    d, m, p = 7, 2, 3
    sym = lambda a: a + a.mT  # noqa: E731
    c, t2 = sym(torch.randn(m, d, d, dtype=torch.float64)), sym(torch.randn(m, d, d, dtype=torch.float64))
    t = torch.rand(d, dtype=torch.float64) + 0.5
    w = torch.randn(m, p, d, dtype=torch.float64, requires_grad=True)
    (auto,) = torch.autograd.grad(expected_loss(w, c, torch.diag(t), t2).sum(), w)
    w = w.detach()
    assert torch.allclose(expected_gradient(w, c, torch.diag(t), t2), auto)
    assert torch.allclose(Group(w, c, t2).stepper(t, 0.01)(w), w - 0.01 * auto)
    low = (torch.randn(m, d, 2, dtype=torch.float64), torch.randn(m, d, 2, dtype=torch.float64))
    structured = Group(w, torch.rand(m, d, dtype=torch.float64), low=low)
    c_s, t2_s = structured.dense(t)
    (auto,) = torch.autograd.grad(expected_loss(w.requires_grad_(), c_s, torch.diag(t), t2_s).sum(), w)
    assert torch.allclose(structured.stepper(t, 0.01)(w.detach()), w.detach() - 0.01 * auto)


def test_a_fused_step_is_one_gradient_step_dense_and_structured():
    torch.manual_seed(1)
    d, m, p, lr = 7, 2, 3, 0.01  # p < d / 2; the wide (p > d / 2) dense step below
    sym = lambda a: a + a.mT  # noqa: E731
    t = torch.rand(d, dtype=torch.float64) + 0.5
    w = torch.randn(m, p, d, dtype=torch.float64)
    low = (torch.randn(m, d, 2, dtype=torch.float64), torch.randn(m, d, 2, dtype=torch.float64))
    for g in (Group(w, sym(torch.randn(m, d, d, dtype=torch.float64)), sym(torch.randn(m, d, d, dtype=torch.float64))),
              Group(w, torch.rand(m, d, dtype=torch.float64), low=low), Group(w, torch.rand(m, d, dtype=torch.float64))):  # fmt: skip
        c, t2 = g.dense(t)
        assert torch.allclose(g.stepper(t, lr)(w), w - lr * expected_gradient(w, c, t, t2))
    wide = torch.randn(m, 5, d, dtype=torch.float64)
    g = Group(
        wide, sym(torch.randn(m, d, d, dtype=torch.float64)), sym(torch.randn(m, d, d, dtype=torch.float64))
    )
    assert torch.allclose(g.stepper(t, lr)(wide), wide - lr * expected_gradient(wide, g.c, t, g.t2))


def test_training_on_the_span_only_matches_training_every_column():
    """With n < d the structured groups leave W's columns outside the training points' span at their start;
    trained in full, those columns only shrink, and the span's columns and the probe come out the same."""
    cfg = FSConfig(k_e=24, n=12, steps=1500)
    gen = torch.Generator().manual_seed(0)
    x, e, y = fs_data(cfg.n, cfg, gen)
    mom = fs_moments(x, e, y, cfg)
    t, u, r = toys_fs.fs_basis(x, cfg)
    assert r == cfg.n and torch.allclose(u.T @ mom.t @ u, torch.diag(t), atol=1e-4)
    w0 = toys_fs.small_init(gen, cfg.d, cfg.d, cfg.init) @ u
    models = [(p, 0.0) for p in (8, 30, cfg.d)]
    lr = toys_fs.stable_lr(cfg.lr, float(t.max()))
    (span,), _ = spectral_gd([toys_fs._group(cfg, models, cfg.d, w0, mom, t, u, r, False)], t, lr, cfg.steps)
    (full,), _ = spectral_gd(
        [toys_fs._group(cfg, models, cfg.d, w0, mom, t, u, cfg.d, False)], t, lr, cfg.steps
    )
    assert span.shape[-1] == r and full.shape[-1] == cfg.d
    assert float((full[..., :r] - span).norm() / full[..., :r].norm()) < 1e-4
    assert float(full[..., :r].norm()) > 100 * float(w0.norm())  # the span's columns did learn
    outside = toys_fs._with_outside(span, models, w0)[..., r:]
    assert (full[..., r:].norm(dim=-1) <= outside.norm(dim=-1) + 1e-12).all()  # they only shrink


def test_zero_rows_stay_zero_so_padded_models_train_as_their_own_size():
    torch.manual_seed(0)
    d = 6
    c = torch.diag(torch.rand(d) + 1)[None]
    t = torch.rand(d) + 1.0
    w0 = torch.zeros(1, 4, d)
    w0[0, :2] = 0.01 * torch.randn(2, d)
    (padded,), _ = spectral_gd([Group(w0, c, torch.diag(t)[None])], t, 0.01, 200)
    (alone,), _ = spectral_gd([Group(w0[:, :2].clone(), c, torch.diag(t)[None])], t, 0.01, 200)
    assert torch.equal(padded[0, 2:], torch.zeros(2, d)) and torch.allclose(
        padded[0, :2], alone[0], atol=1e-6
    )


def test_the_probe_agrees_with_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 300, 4))
    y = (x[..., 0] + 0.7 * x[..., 1] + rng.normal(scale=1.0, size=(3, 300)) > 0).astype(float)
    ours = logistic_accuracy(torch.tensor(x[:, :200]), torch.tensor(y[:, :200]), torch.tensor(x[:, 200:]),
                             torch.tensor(y[:, 200:]), c=1.0)  # fmt: skip
    for k in range(3):
        ref = LogisticRegression(C=1.0).fit(x[k, :200], y[k, :200]).score(x[k, 200:], y[k, 200:])
        assert float(ours[k]) == pytest.approx(ref, abs=0.011)


# ---------------------------------------------------------------- the CC toy: the spec's signs
@pytest.fixture(scope="module")
def cc_default():
    return run_cc(CCConfig())


def test_cc_supcon_learns_the_subclasses_early_and_unlearns_them(cc_default):
    acc, steps = cc_default.subclass_acc["SCL"], cc_default.steps
    assert acc[(steps >= 50) & (steps <= 200)].min() >= 0.95  # high early (spec: 1.00 at steps 50–150)
    assert np.abs(acc[steps >= 1000] - 0.5).max() <= 0.06  # near 0.5 late (spec: .50 from step 1,000 on)
    assert cc_summary(cc_default)["SCL"]["drop"] >= 0.4


def test_cc_joint_dips_then_recovers_and_ucl_stays_high(cc_default):
    joint, ucl, steps = cc_default.subclass_acc["joint"], cc_default.subclass_acc["UCL"], cc_default.steps
    assert joint[steps >= 1000].min() >= 0.95 and joint[-1] >= 0.95  # recovers (spec: back to 1.00)
    assert 0.6 <= cc_summary(cc_default)["joint"]["dip"] <= 0.95  # after a dip (spec: ≈ .87 near step 300)
    assert ucl[steps >= 50].min() >= 0.98  # UCL stays 1.00


def test_cc_scatter_shows_four_moments_of_the_training_points(cc_default):
    assert cc_default.scatter_steps.tolist() == [100, 400, 1000, 3000]
    assert cc_default.embeddings["SCL"].shape == (4, 200, 3)
    # collapsed: late, the subclasses of a class sit together under SCL
    emb, cls, sub = cc_default.embeddings["SCL"][-1], cc_default.classes, cc_default.subclasses
    gap = np.linalg.norm(emb[(cls == 0) & (sub == 0)].mean(0) - emb[(cls == 0) & (sub == 1)].mean(0))
    early = cc_default.embeddings["SCL"][0]
    gap_early = np.linalg.norm(
        early[(cls == 0) & (sub == 0)].mean(0) - early[(cls == 0) & (sub == 1)].mean(0)
    )
    assert gap < 0.2 * gap_early


@pytest.mark.trains
def test_cc_without_tilt_scl_has_nothing_to_collapse():
    r = run_cc(CCConfig(b=0.0))
    late = r.subclass_acc["SCL"][r.steps >= 200]
    assert np.abs(late - 0.5).max() <= 0.06 and r.subclass_acc["SCL"][r.steps >= 50].max() < 0.9
    assert r.subclass_acc["UCL"][-1] >= 0.98 and r.subclass_acc["joint"][-1] >= 0.95


# ---------------------------------------------------------------- the FS toy: the spec's signs
def test_fs_relevant_probe_rises_with_p_once_p_exceeds_k_e():
    r = run_fs(FSConfig(k_e=32, n=1000, axis="p"))
    below, above = r.accuracy[r.values <= 32], r.accuracy[r.values > 32]
    assert np.abs(below - 0.5).max() <= 0.06 and above.min() >= 0.97  # spec: ≈ .5 until p > k_e, then 1.0


def test_fs_relevant_probe_rises_with_q():
    r = run_fs(FSConfig(k_e=32, n=1000, axis="q", p=8))
    assert r.accuracy[0] <= 0.56 and r.accuracy[r.values >= 0.5].min() >= 0.97  # spec: any q ≥ 0.5 → 1.0
    assert np.all(np.diff(r.accuracy) >= -0.02)


def test_fs_with_fewer_examples_than_easy_dims_stays_near_chance_at_every_p():
    r = run_fs(FSConfig(k_e=32, n=16, axis="p"))
    assert np.abs(r.accuracy - 0.5).max() <= 0.06 and r.values.max() == r.config.d
    assert run_fs(FSConfig(k_e=32, n=16, axis="q", p=32)).accuracy[-1] >= 0.95  # q = 1 rescues it


@pytest.mark.trains
def test_fs_the_spec_settings_k_e_1_and_n_64_below_k_e_128():
    r = run_fs(FSConfig(k_e=1, n=1000, axis="p"))
    assert r.accuracy[0] <= 0.56 and r.accuracy[1:].min() >= 0.97  # p = 1 → .50, p ≥ 2 → 1.0
    r = run_fs(FSConfig(k_e=128, n=64, axis="p"))
    assert np.abs(r.accuracy - 0.5).max() <= 0.06  # .52 up to p = d
    joint = run_fs(FSConfig(k_e=128, n=64, axis="p", alpha=0.5, steps=1000))
    assert np.abs(joint.accuracy - 0.5).max() <= 0.07  # the joint loss does not fix it at n = 64
    assert (
        run_fs(FSConfig(k_e=32, n=1000, axis="p", alpha=0.5)).accuracy.min() >= 0.97
    )  # it does at n = 1,000


# ---------------------------------------------------------------- cache, settings, jobs
def _changed(value):
    if isinstance(value, str):
        return "q" if value == "p" else "p"
    return value + 4 if isinstance(value, int) else value / 2 + 0.01  # + 4 keeps the sizes valid


@pytest.mark.parametrize("cfg", [CCConfig(), FSConfig(axis="q"), FSConfig(axis="p")])
def test_every_setting_changes_the_cache_key(cfg):
    for field in dataclasses.fields(cfg):
        if (field.name, getattr(cfg, "axis", None)) in (("p", "p"), ("q", "q")):
            continue  # the unused knob of an FS axis: one key for all its values (checked below)
        changed = dataclasses.replace(cfg, **{field.name: _changed(getattr(cfg, field.name))})
        assert changed.key() != cfg.key(), field.name
    assert FSConfig(axis="p", p=5).key() == FSConfig(axis="p").key()
    assert FSConfig(axis="q", q=0.5).key() == FSConfig(axis="q").key()


def test_results_are_cached_on_disk_and_read_back(tmp_path, monkeypatch):
    cc, fs = CCConfig(steps=200, every=50), FSConfig(k_e=2, n=40, steps=200, axis="q")
    first, line = cc_result(cc, tmp_path), fs_result(fs, tmp_path)
    assert toys.cache_path(tmp_path, "cc", cc).parent.name == "_xue2023_toys"
    monkeypatch.setattr(toys, "run_cc", lambda *a, **k: pytest.fail("trained again"))
    monkeypatch.setattr(toys_fs, "run_fs", lambda *a, **k: pytest.fail("trained again"))
    again = cc_result(cc, tmp_path)
    assert np.allclose(again.subclass_acc["SCL"], first.subclass_acc["SCL"], atol=1e-5)
    assert np.allclose(fs_result(fs, tmp_path).accuracy, line.accuracy, atol=1e-5)
    assert stored_cc(dataclasses.replace(cc, b=0.25), tmp_path) is None
    toys.cache_path(tmp_path, "fs", fs).write_text("{not json")
    assert stored_fs(fs, tmp_path) is None  # damaged: read as missing, computed again by the job
    path = toys.cache_path(tmp_path, "cc", cc)
    path.write_text(json.dumps({**json.loads(path.read_text()), "key": "another"}))
    assert stored_cc(cc, tmp_path) is None


@pytest.mark.parametrize(("make", "says"), [(lambda: CCConfig(alpha=1.5), "alpha must be between"),
                                            (lambda: CCConfig(n_train=10), "multiples of 4"),
                                            (lambda: FSConfig(axis="r"), "Unknown axis 'r'"),
                                            (lambda: FSConfig(k_e=4, axis="q", p=30), "between 1 and d")])  # fmt: skip
def test_bad_settings_say_what_is_wrong(make, says):
    with pytest.raises(ValueError, match=says):
        make()


def test_the_toy_jobs_compute_and_store_their_result(tmp_path):
    from lab.store.runs import RunStore
    from lab.worker.job import JobRequest

    events = []
    kinds = {k.name: k for k in toy_jobs.TOY_JOB_KINDS}
    assert set(kinds) == {toy_jobs.TOY_CC, toy_jobs.TOY_FS} and all(k.startswith("xue2023.") for k in kinds)
    for name, cfg in (
        (toy_jobs.TOY_CC, CCConfig(steps=100)),
        (toy_jobs.TOY_FS, FSConfig(k_e=2, n=20, steps=100)),
    ):
        req = JobRequest(name, "k", RunStore(tmp_path), lambda **e: events.append(e), lambda: False,
                         run_id=toy_jobs.TOYS.id, params=dataclasses.asdict(cfg))  # fmt: skip
        kinds[name].work(req)
    assert [e["event"] for e in events if e["event"] == "done"] == ["done", "done"]
    assert stored_cc(CCConfig(steps=100), tmp_path) is not None
    assert stored_fs(FSConfig(k_e=2, n=20, steps=100), tmp_path) is not None
