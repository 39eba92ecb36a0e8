"""One real-browser test: Debian's chromium driven by Playwright against `streamlit run app.py`.

Starts the app on a free localhost port with an empty runs folder, trains the digits default
from the UI, opens the map, clicks a point and sees the neighbour grid. Screenshots go to
test-artifacts/. Skipped, with the reason shown, when chromium or playwright is missing.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from lab.bench.browser import CHROMIUM, CLICK_POINT_JS, MAP_DRAWN_JS
from lab.bench.browser import CHROMIUM_ARGS as BENCH_ARGS
from lab.bench.serve import serve_app
from lab.core.config import TrainConfig, default_epochs

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [*BENCH_ARGS, "--disable-gpu"]  # the bench's flags; tests need no compositing speed

pytestmark = [pytest.mark.slow, pytest.mark.browser]
if not Path(CHROMIUM).exists():
    pytestmark.append(
        pytest.mark.skip(
            reason=f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
        )
    )
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover
    sync_playwright = None
    pytestmark.append(pytest.mark.skip(reason="the playwright package is not installed"))


def serve(runs: Path):
    """`streamlit run app.py` on a free port over a runs folder (lab.bench.browser.serve_app), its log
    next to the runs folder; yields its URL."""
    return serve_app(runs, runs.parent / f"streamlit-{runs.name}.log", timeout=60)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app over an empty runs folder, shared by this module's tests."""
    with serve(tmp_path_factory.mktemp("browser-runs")) as url:
        yield url


STRIP_SHOWN_JS = """
() => [...document.querySelectorAll('[data-testid="stImage"] img')].filter(i => i.complete && i.naturalWidth > 0).length >= 18
"""
IMAGES = '[data-testid="stImage"] img, .lab-grid img'  # single images, and the inlined grids
# Counts, per plotly chart, the distinct calcdata objects it has had: Plotly makes a new one each
# time it recomputes and redraws the whole figure, and keeps it when handed an unchanged figure.
COUNT_CALCS_JS = """(() => { const seen = new WeakSet();
  const poll = () => { for (const gd of document.querySelectorAll('.js-plotly-plot'))
      if (gd.calcdata && !seen.has(gd.calcdata)) { seen.add(gd.calcdata); gd.__labCalcs = (gd.__labCalcs || 0) + 1; }
    requestAnimationFrame(poll); };
  requestAnimationFrame(poll); })();"""
MAP_CALCS_JS = """(n) => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(gd => gd._fullData && gd._fullData.reduce((s, t) => s + (t.x ? t.x.length : 0), 0) >= n)
  .map(gd => gd.__labCalcs)"""
# Each WebGL chart's drawing-buffer pixels per CSS pixel.
GL_RATIO_JS = """() => [...document.querySelectorAll('.js-plotly-plot canvas.gl-canvas-context')]
  .map(c => Math.round(100 * c.width / c.clientWidth) / 100)"""
IMAGES_LOADED_JS = f"""
() => [...document.querySelectorAll('{IMAGES}')].every(i => i.complete && i.naturalWidth > 0)
"""


def test_train_digits_open_the_map_click_a_point_see_its_neighbours(app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(60_000)
        page.add_init_script(COUNT_CALCS_JS)
        try:
            page.goto(app_url)
            page.get_by_text("No runs yet").first.wait_for()
            page.get_by_text("Draw new views").wait_for()
            page.get_by_test_id("stSelectbox").first.wait_for()
            page.wait_for_function(STRIP_SHOWN_JS)
            page.screenshot(path=str(ARTIFACTS / "empty-state-train.png"), full_page=True)
            # the form shows the values the page computes with (a rerun that interrupted the first
            # run once left the inputs at their minimum: see pages/ui/charts.screen_probe)
            page.wait_for_timeout(1000)
            # Fashion-MNIST trains for a time budget by default (lab.core.config.default_budget)
            budget = re.search(r"A (\d+)-s budget", page.inner_text('[data-testid="stMain"]'))
            assert budget, "the Train page says the default trains for a time budget"
            assert page.get_by_label("Budget (seconds)", exact=True).input_value() == budget.group(1)
            assert page.get_by_label("Batch size", exact=True).input_value() == str(TrainConfig().batch_size)

            page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
            page.get_by_role("option", name="digits").click()
            # Wait until the rerun has applied digits' defaults (epochs, not a budget); a click before
            # that would submit the previous settings (seen under load).
            page.get_by_text(re.compile(r"about [\d,]+ steps of \d+ images")).wait_for()
            steps = re.search(
                r"about ([\d,]+) steps of (\d+) images", page.inner_text('[data-testid="stMain"]')
            )
            assert page.get_by_label("Batch size", exact=True).input_value() == steps.group(2)
            assert float(page.get_by_label("Epochs", exact=True).input_value()) == default_epochs(
                "simclr", "digits"
            )
            page.get_by_role("button", name="Start training").click()
            started = time.perf_counter()
            page.get_by_text("Trained and stored").wait_for(timeout=150_000)
            page.get_by_role("button", name="Open its map").click()
            page.locator(".js-plotly-plot .scatterlayer, .js-plotly-plot canvas").first.wait_for(
                timeout=150_000
            )
            map_seconds = time.perf_counter() - started
            page.wait_for_function(MAP_DRAWN_JS, arg=1797)  # every digit drawn
            time.sleep(1.0)  # a click in this time must not wait for a second drawing of the map
            assert page.evaluate(MAP_CALCS_JS, 1797) == [1], (
                "Plotly computed and drew the whole map again after it appeared: it saw a changed figure "
                "once Streamlit's chart re-themed it (see lab/figures.py)"
            )
            # WebGL drawn at the screen's pixel ratio (1 here), not Plotly's fixed 2 (lab.view.figures.gl_pixel_ratio)
            assert page.evaluate(GL_RATIO_JS) == [1], page.evaluate(GL_RATIO_JS)
            # the page keeps the Train page's scroll offset, where "Open its map" was clicked
            page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()

            target = page.evaluate(CLICK_POINT_JS)
            clicked = time.perf_counter()
            page.mouse.click(target["x"], target["y"])
            page.get_by_text("Neighbours from another class").wait_for(timeout=30_000)
            page.get_by_text("nearest neighbours in the backbone space").wait_for()
            click_seconds = time.perf_counter() - clicked
            assert page.locator('[data-testid="stImage"] img').count() >= 1, "the clicked image"
            grid = page.locator('.lab-grid[aria-label="nearest neighbours"] img')
            page.wait_for_function(
                """() => document.querySelectorAll('.lab-grid[aria-label="nearest neighbours"] img').length == 16"""
            )
            assert grid.count() == 16, "its 16 neighbours"
            # the map marks the selected image (an annotation and a ring) and its 16 neighbours (rings),
            # as SVG over the WebGL points: Plotly did not compute and draw the points again
            page.wait_for_function(
                "() => document.querySelectorAll('.js-plotly-plot .shapelayer path').length == 17"
            )
            assert page.locator(".js-plotly-plot .annotation-text", has_text="selected").count() == 1
            page.mouse.move(5, 5)  # the mouse leaves the map: the marks stay
            time.sleep(0.5)
            assert page.locator(".js-plotly-plot .annotation-text", has_text="selected").count() == 1
            assert page.evaluate(MAP_CALCS_JS, 1797) == [1], "a click redrew the whole map"
            page.wait_for_function(IMAGES_LOADED_JS)
            page.screenshot(path=str(ARTIFACTS / "map-selected-point.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    print(f"\ntrain-to-map {map_seconds:.1f} s, click-to-neighbours {click_seconds:.2f} s (digits)")
    assert (ARTIFACTS / "map-selected-point.png").stat().st_size > 10_000


RLD_VALUES_JS = (
    "() => [...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
    ".filter(m => m.innerText.startsWith('RLD')).map(m => m.innerText).slice(0, 5)"
)  # the toy panel's five come first; a stored run adds its own RLD metrics below


CALCS_JS = "() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => gd.__labCalcs)"


def test_density_page_recomputes_the_toy_rld_when_tau_moves(app_url):
    """The Density page's five toy RLD values change when the τ slider moves by keyboard, and each of
    its charts (the toys, and the trained run's) is drawn once, the rerun's re-sent ones included;
    on a screen of pixel ratio 1.5 its WebGL charts are drawn at 1.5."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1200}, device_scale_factor=1.5)
        page.set_default_timeout(60_000)
        page.add_init_script(COUNT_CALCS_JS)
        try:
            page.goto(app_url)
            # app.py's own navigation (not Streamlit's pages/ folder listing shown before its first run)
            page.get_by_text("Device:").wait_for()
            # the sidebar reports the screen's pixel ratio once mounted, and the app reruns with it:
            # a user's next page draws WebGL at that ratio (only a page opened before that redraws)
            page.wait_for_timeout(1000)
            page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")
            page.get_by_role("link", name="Density", exact=True).click()
            page.get_by_text("The paper's toy figure").wait_for()
            page.wait_for_function(f"() => ({RLD_VALUES_JS})().length === 5")
            before = page.evaluate(RLD_VALUES_JS)
            slider = page.get_by_role("slider").first
            slider.focus()
            for _ in range(10):  # 0.05 -> 0.15
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                f"() => JSON.stringify(({RLD_VALUES_JS})()) !== JSON.stringify({json.dumps(before)})"
            )
            page.wait_for_timeout(500)
            page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")  # the rerun is over
            after = page.evaluate(RLD_VALUES_JS)
            # the toys, then the run's RLD over τ, layer map and heatmap, purity curves and bars
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 10")
            page.wait_for_timeout(1000)
            calcs = page.evaluate(CALCS_JS)
            ratios = page.evaluate(GL_RATIO_JS)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "density-toys-tau.png"), full_page=True)
        finally:
            browser.close()
    assert len(after) == 5 and after != before
    assert len(calcs) > 5, "the toys and the trained digits run's charts"
    assert calcs == [1] * len(calcs), (
        f"Plotly drew some charts more than once: {calcs} (see lab.view.figures.chart)"
    )
    assert len(ratios) == 6 and set(ratios) == {1.5}, f"the five toys and the layer map: {ratios}"


@pytest.mark.parametrize(
    ("path", "title"),
    [("map", "Map of the representation"), ("zhang2023_density", "Local and global density")],
)
def test_a_page_opened_by_its_url_on_a_fresh_server_runs_through_app_py(tmp_path, path, title):
    """A refresh on /map (or a paper's page), or a tab reconnecting after `make run` restarted, is the
    server's first request: the page must still come with the app's sidebar and navigation
    (pages/ui/state.require_app), not as Streamlit's v1 listing of the pages/ folder, and without its
    "Page not found" dialog (a paper's page file is flat in pages/ for that)."""
    runs = tmp_path / "runs"
    runs.mkdir()
    with serve(runs) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{url}/{path}")
            page.get_by_text(title).first.wait_for()
            page.get_by_text("Device:").wait_for()  # app.py's sidebar
            assert page.get_by_text("Train and explore").count() == 1, "app.py's navigation"
            assert page.get_by_role("link", name="ui").count() == 0, "not the pages/ folder listing"
            assert page.get_by_text("Page not found").count() == 0
            assert page.get_by_text("Train a model").count() == 0 or path == "train"
        finally:
            browser.close()
