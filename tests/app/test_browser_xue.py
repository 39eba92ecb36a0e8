"""Xue et al. 2023's pages in a real browser (Debian's chromium via Playwright against `streamlit run
app.py`): the linear toys drawn on a fresh server, then the tilt b moved to 0 and the page saying there is
nothing to collapse; and the Map page's embedding-size slider swapping between two stored runs. Reuses
test_browser.py's server; skipped, with the reason, when chromium or playwright is missing."""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, CHROMIUM_ARGS, pytestmark, serve, sync_playwright  # noqa: F401

from lab.bench.browser import CHROMIUM

# How many plotly charts on the page have drawn at least one trace
CHARTS_JS = (
    "() => [...document.querySelectorAll('.js-plotly-plot')].filter(g => (g._fullData || []).length).length"
)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_toys_draw_and_b_zero_says_nothing_collapses(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    with serve(runs) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1400})
        page.set_default_timeout(120_000)
        try:
            page.goto(f"{url}/xue2023_toys")
            page.get_by_text("Simplicity bias: linear toys").first.wait_for()
            page.get_by_text("SCL's collapse drop").first.wait_for()  # the CC toy trained in the worker
            page.wait_for_function(f"() => ({CHARTS_JS})() >= 4")  # CC curve, 3-D scatter, FS against p and q
            _shot(page, "xue-toys.png")
            slider = page.get_by_role("slider", name="tilt b")
            slider.focus()
            for _ in range(5):  # 0.5 -> 0.0 in steps of 0.1
                slider.press("ArrowLeft")
            page.get_by_text("b = 0: nothing to collapse.").first.wait_for()
            page.get_by_text("SCL's collapse drop").first.wait_for()
            _shot(page, "xue-toys-b0.png")
        except Exception:
            _shot(page, "xue-toys-failure.png")
            raise
        finally:
            browser.close()


@pytest.fixture(scope="module")
def two_sizes(tmp_path_factory):
    from tiny import TINY_APP

    from lab.core.config import TrainConfig
    from lab.store.maps import run_map
    from lab.store.runs import RunStore

    root = tmp_path_factory.mktemp("slider-runs")
    store = RunStore(root)
    runs = [
        store.get_or_train(TrainConfig(method="simclr", **{**TINY_APP, "embedding_size": p}))[0]
        for p in (8, 32)
    ]
    for run in runs:
        run_map(run, "backbone")
    return root, runs


def test_the_embedding_size_slider_swaps_the_map_between_stored_runs(two_sizes):
    root, (small, large) = two_sizes
    with serve(root) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        page.set_default_timeout(120_000)
        try:
            page.goto(f"{url}/map")
            page.get_by_text("differ only in embedding size p").first.wait_for()
            first = large.id if page.get_by_text(f"run `{large.id}`").count() else small.id
            other = small if first == large.id else large
            slider = page.get_by_role("slider", name="Embedding size p: stored runs")
            slider.focus()
            slider.press("ArrowLeft" if other is small else "ArrowRight")
            page.wait_for_function(
                f"() => document.body.innerText.includes('run {other.id}')"
            )  # visible text only
            page.wait_for_function(f"() => ({CHARTS_JS})() >= 1")
            _shot(page, "map-embedding-slider.png")
        except Exception:
            _shot(page, "map-slider-failure.png")
            raise
        finally:
            browser.close()
