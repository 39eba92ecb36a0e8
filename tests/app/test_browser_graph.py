"""The kNN-graph page in a real browser (Debian's chromium via Playwright against `streamlit run app.py`):
open the page on a fresh server over a tiny trained digits run, select an image, and see the walks' paths
drawn, each step numbered. Reuses test_browser.py's server; skipped, with the reason, when chromium or
playwright is missing."""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, CHROMIUM_ARGS, pytestmark, serve, sync_playwright  # noqa: F401

from lab.bench.browser import CHROMIUM

# Per graph: how many traces are walks, and how many of them have a drawn SVG line (plotly draws the
# scatter traces of one plot in order, so the trace groups line up with _fullData).
WALKS_DRAWN_JS = """() => {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const names = (gd._fullData || []).map(t => t.name || '');
    const walks = names.filter(n => n.startsWith('walk ')).length;
    if (!walks) continue;
    const groups = [...gd.querySelectorAll('.scatterlayer .trace')];
    const drawn = groups.filter((g, i) => (names[i] || '').startsWith('walk ')
      && (g.querySelector('path.js-line')?.getAttribute('d') || '').length > 10).length;
    const steps = [...gd.querySelectorAll('.scatterlayer .trace text')].filter(t => t.textContent === '1').length;
    return {walks, drawn, steps, title: gd.querySelector('.gtitle')?.textContent || ''};
  }
  return null;
}"""


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    from tiny import TINY_APP

    from lab.core.config import TrainConfig
    from lab.store.runs import RunStore

    root = tmp_path_factory.mktemp("graph-runs")
    RunStore(root).get_or_train(TrainConfig(method="simclr", **TINY_APP))
    return root


def test_select_an_image_and_see_its_walks_drawn(one_run):
    with serve(one_run) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{url}/sag2025_graph")
            page.get_by_text("kNN graph and random walks").first.wait_for()
            # the run's map and kNN table are computed by the worker first
            page.wait_for_function(f"() => ({WALKS_DRAWN_JS})()?.drawn === 20", timeout=240_000)
            box = page.get_by_label("Image (row of the run)", exact=True).and_(page.get_by_role("spinbutton"))
            box.fill("7")
            box.press("Enter")
            page.wait_for_function(f"() => ({WALKS_DRAWN_JS})()?.title.includes('of image 7')")
            page.wait_for_function(f"() => ({WALKS_DRAWN_JS})()?.drawn === 20")
            drawn = page.evaluate(WALKS_DRAWN_JS)
            page.get_by_text("Walk precision").first.wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "graph-walks.png"), full_page=True)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "graph-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert drawn["walks"] == drawn["drawn"] == 20, drawn
    assert drawn["steps"] >= 20, "every walk's first step is numbered"
