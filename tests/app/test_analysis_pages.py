"""AppTest for the Density and Probes pages against the tiny digits runs of conftest.py, plus bad
runs (NaN features, a single class) that must give a readable message, never a traceback."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from app_helpers import REPO, page, run_id_of, texts, wait_for


def metrics(at, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


# ---------------------------------------------------------------- Density
def test_the_toy_panel_recomputes_rld_when_tau_moves(app_env):
    at = page("zhang2023_density", run_picker=run_id_of("simclr"))
    assert not at.exception
    before = metrics(at, "RLD")
    assert len(before) == 5 and len(metrics(at, "CHS")) == 5
    assert float(before[1]) == pytest.approx(0.79, abs=0.03)  # five Gaussians at τ = 0.05 (spec value)
    at.slider(key="dens_toy_tau").set_value(0.3).run()
    after = metrics(at, "RLD")
    assert not at.exception and after != before
    assert float(after[3]) < float(before[3])  # rings blur together at a large τ
    at.slider(key="dens_toy_tau").set_value(0.0).run()
    assert not at.exception
    assert any("τ must be above 0" in w.value for w in at.warning)


def test_density_page_shows_supervised_and_simclr_side_by_side(app_env):
    at = page("zhang2023_density", run_picker=run_id_of("simclr"))
    at = wait_for(
        at,
        lambda a: (
            any(m.label.startswith("Same pairs") for m in a.metric)
            and len(metrics(a, "RLD, τ = 0.2 [P]")) == 2
            and len(a.get("plotly_chart")) >= 11
        ),
    )  # computed in the worker
    assert at.selectbox(key="dens_other").value == run_id_of("supervised")
    rld = metrics(at, "RLD, τ = 0.2 [P]")
    assert len(rld) == 2 and all(0 < float(v) < 1 for v in rld)
    assert len(metrics(at, "CHS [P]")) == 2
    assert "Zhang, Lu & Xuan 2023" in at.caption[0].value
    charts = at.get("plotly_chart")
    assert len(charts) >= 5 + 2 + 2 + 2  # toys, two maps, two heatmaps, purity curve and bars
    at.button_group(key="dens_tau").set_value(0.1).run()
    at = wait_for(at, lambda a: len(metrics(a, "RLD, τ = 0.1 [P]")) == 2)
    sharper = metrics(at, "RLD, τ = 0.1 [P]")
    assert len(sharper) == 2 and float(sharper[0]) > float(rld[0])
    for layer in ("rld", "density"):
        at.button_group(key="dens_layer").set_value(layer).run()
        at = wait_for(at, lambda a: len(a.get("plotly_chart")) >= 11)
        assert not at.exception and not at.error


def test_density_page_alone_and_with_a_per_class_purity_choice(app_env):
    at = page("zhang2023_density", run_picker=run_id_of("supervised"), dens_other=None)
    at = wait_for(at, lambda a: len(metrics(a, "RLD, τ = 0.2 [P]")) == 1 and a.select_slider)
    assert not at.exception
    at.select_slider(key="dens_p").set_value(100).run()
    assert not at.exception


# ---------------------------------------------------------------- Probes
def test_probes_page_shows_bars_and_a_table_beside_pixels(app_env):
    at = page("zhang2023_probes", run_picker=run_id_of("simclr"))
    at = wait_for(at, lambda a: len(a.dataframe) > 0 and len(a.dataframe[0].value) == 3 * 4 * 2, timeout=300)
    assert at.multiselect(key="probe_runs").value == [run_id_of("simclr"), run_id_of("supervised")]
    table = at.dataframe[0].value
    names = set(table["representation"])
    assert "pixels (PCA-64)" in names and {"simclr", "supervised"} <= {f.split(" · ")[0] for f in names}
    assert set(table["probe"]) == {
        "Linear [P]",
        "kNN, k = 20 [L]",
        "GCN, label inputs [P]",
        "GCN, feature inputs [L]",
    }
    scored = table.dropna(subset=["accuracy"])
    assert len(scored) == 3 * 4 * 2  # three representations, four probes, the 10 % and 100 % budgets
    assert ((scored["accuracy"] > 0.3) & (scored["accuracy"] <= 1)).all()
    assert "per class" in texts(at)  # 1 % of 1,442 digits is too few labels: said, not crashed
    charts = [c.key for c in at.get("plotly_chart")]
    assert charts == ["probe_label_sets", "probe_bars"]  # the run per label set, then the runs per budget


def test_probes_page_renders_the_stored_reproduction(app_env, monkeypatch, tmp_path):
    from lab.papers import reports

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "zhang2023.md").write_text(
        "# Reproduction: test\n\n| Claim | Verdict |\n|---|---|\n| x | **partly** |\n"
    )
    (folder / "zhang2023.json").write_text('{"date": "today", "command": "python -m lab reproduce zhang2023", '
                                           '"datasets": [{"claims": [{"verdict": "partly"}]}]}')  # fmt: skip
    monkeypatch.setattr(reports, "DEFAULT_OUT", folder)
    at = page("zhang2023_probes", run_picker=run_id_of("simclr"), probe_runs=[run_id_of("simclr")])
    assert not at.exception
    assert "**partly**" in texts(at) and "1 partly" in texts(at)


# ---------------------------------------------------------------- bad runs
@pytest.fixture()
def bad_runs(runs_dir, tmp_path, monkeypatch):
    """A runs folder holding a copy of the simclr run with NaN features and one with a single class."""
    import streamlit as st

    from lab.store.manifest import write_manifest

    root = tmp_path / "bad-runs"
    src = runs_dir / run_id_of("simclr")
    for name, damage in (("nanfeatures0", "nan"), ("oneclass0000", "labels")):
        shutil.copytree(
            src, root / name, ignore=shutil.ignore_patterns("analysis", "maps", "knn-*", "pairs-*")
        )
        if damage == "nan":
            h = np.load(root / name / "features.npy")
            h[:5] = np.nan
            np.save(root / name / "features.npy", h)
        else:
            np.save(root / name / "labels.npy", np.zeros_like(np.load(root / name / "labels.npy")))
        write_manifest(root / name)  # stored like that (a diverged run), not damaged afterwards
    shutil.copytree(runs_dir / "_baselines", root / "_baselines")
    monkeypatch.setenv("LAB_RUNS_DIR", str(root))
    monkeypatch.chdir(REPO)
    st.cache_resource.clear()
    yield root
    st.cache_resource.clear()


@pytest.mark.parametrize(
    ("rid", "says"), [("nanfeatures0", "NaN or infinite"), ("oneclass0000", "share one class")]
)
def test_bad_runs_give_a_clear_message_on_both_pages(bad_runs, rid, says):
    for name in ("zhang2023_density", "zhang2023_probes"):
        at = page(name, run_picker=rid)
        assert not at.exception, (name, at.exception)
        assert any(says in e.value for e in at.error), (name, texts(at))
        assert "nan" not in " ".join(m.value.lower() for m in at.metric if m.label != "RLD")


# ---------------------------------------------------------------- the real browser
