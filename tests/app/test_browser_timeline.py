"""The training timeline in a real browser (Debian's chromium via Playwright against `streamlit run
app.py`): the Map page of a digits run with four snapshots draws the movie's last frame, and a move of
the movie's own slider (Plotly's, in the chart: a click on its ticks) draws another frame, with
other points. Reuses test_browser.py's markers and skips; the timing of such moves against the 0.3 s target is `python -m lab bench-timeline --browser`."""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, CHROMIUM_ARGS, pytestmark, sync_playwright  # noqa: F401

from lab.bench.browser import CHROMIUM
from lab.bench.browser_timeline import move_step, open_timeline
from lab.bench.serve import serve_app


@pytest.fixture(scope="module")
def timeline_runs(tmp_path_factory):
    """A runs folder with one digits run trained with 4 snapshots, its map and its timeline."""
    from lab.core.config import TrainConfig
    from lab.store.baselines import pixel_baseline_of
    from lab.store.maps import run_map
    from lab.store.runs import RunStore
    from lab.store.timeline import timeline

    root = tmp_path_factory.mktemp("browser-timeline") / "runs"
    run, _ = RunStore(root).get_or_train(TrainConfig(dataset="digits", epochs=1, snapshots=4))
    run_map(run, "backbone")
    timeline(run, pixel_baseline_of(run))
    return root


def test_moving_the_step_slider_draws_another_frame(timeline_runs):
    with serve_app(timeline_runs, timeline_runs.parent / "streamlit.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(120_000)
        try:
            last = open_timeline(page, url)
            assert last["title"].startswith("Snapshot 4 of 4"), last
            _, before = move_step(page, -1)
            _, earlier = move_step(page, -1)
            assert before["title"].startswith("Snapshot 3 of 4") and earlier["title"].startswith(
                "Snapshot 2 of 4"
            )
            assert len({last["points"], before["points"], earlier["points"]}) == 3, (
                "each frame its own points"
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "map-timeline-frame.png"), full_page=True)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "map-timeline-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
