"""The training timeline in a real browser: how long a move of the Map page's step slider takes to redraw
the movie's frame (target 0.3 s). The slider is Plotly's own, in the movie chart (lab.view.timeline),
so a move is drawn in the browser with no round trip to the server. `python -m lab bench-timeline
--browser` runs it after the timeline is stored; tests/app/test_browser_timeline.py uses the same
helpers to check that two different frames are drawn.

Serves `streamlit run app.py` over a runs folder, opens the Map page of its newest run in Debian's
chromium (Playwright, headless), waits until the map, the timeline's frame and the cross-class pairs
are drawn (so no background job of the page's own is running), then clicks the slider's ticks one
step at a time. Each move is timed in the page: from the mousedown to the second animation frame after
the chart shows the new snapshot's heading and its points (Plotly has drawn it). A user looks at each
frame: the moves are 0.5 s apart.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from lab.bench.browser import CHROMIUM, CHROMIUM_ARGS
from lab.bench.serve import serve_app

TARGET_S = 0.3
PAUSE_S = 0.5  # between two moves

# The timeline's movie chart: the plotly chart with an annotation reading "Snapshot i of S ..."
# (lab.view.timeline.timeline_movie), and that heading.
MOVIE_JS = """const head = g => ((g._fullLayout && g._fullLayout.annotations) || []).map(a => a.text || '')
    .find(t => /^Snapshot /.test(t));
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => head(g));"""
# The movie's heading, the first points of its first trace and its slider's active step.
FRAME_JS = f"""() => {{
  {MOVIE_JS}
  if (!gd) return null;
  const t = gd._fullData[0];
  return {{title: head(gd), points: t ? Array.from(t.x.slice(0, 8)).join(',') : '',
          active: gd._fullLayout.sliders[0].active, steps: gd._fullLayout.sliders[0].steps.length}};
}}"""
# Remembers when a mouse button goes down, for the page-side timing of the next redraw.
PRESS_JS = (
    """document.addEventListener('mousedown', () => { window.__labPressAt = performance.now(); }, true);"""
)
# Milliseconds from the last mousedown until the movie shows another heading than `before` and two
# animation frames have passed (the new points are on screen).
REDRAWN_JS = f"""(before) => new Promise(resolve => {{
  const check = () => {{
    const f = ({FRAME_JS})();
    if (f && f.title !== before) {{
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - window.__labPressAt)));
    }} else {{ requestAnimationFrame(check); }}
  }};
  check();
}})"""
# The centre of the movie's slider tick k, in page coordinates.
TICK_JS = f"""(k) => {{
  {MOVIE_JS}
  const tick = gd.querySelectorAll('.slider-container .slider-tick-rect')[k];
  const rail = gd.querySelector('.slider-container .slider-rail-rect');
  const t = tick.getBoundingClientRect(), r = rail.getBoundingClientRect();
  return {{x: t.left + t.width / 2, y: r.top + r.height / 2}};
}}"""


def open_timeline(page, url: str) -> dict:
    """Open the Map page of the newest run and wait until its timeline's movie is drawn; returns the
    frame shown ({title, points, active, steps})."""
    page.add_init_script(PRESS_JS)
    page.goto(f"{url}/map")
    page.get_by_text("Training timeline").first.wait_for()
    page.wait_for_function(f"() => ({FRAME_JS})() !== null")
    page.locator(".js-plotly-plot .slider-container").last.scroll_into_view_if_needed()
    return page.evaluate(FRAME_JS)


def move_step(page, by: int) -> tuple[float, dict]:
    """Click the movie's slider `by` steps from the current one (-1: the snapshot before); returns the
    seconds until the new frame is drawn (timed in the page) and that frame ({title, points, ...})."""
    before = page.evaluate(FRAME_JS)
    at = page.evaluate(TICK_JS, before["active"] + by)
    page.mouse.click(at["x"], at["y"])
    ms = page.evaluate(REDRAWN_JS, before["title"])
    return ms / 1000, page.evaluate(FRAME_JS)


def measure(runs: Path, moves: int = 7, shots: Path | None = None) -> list[tuple[str, float, str]]:
    """Slider moves on the Map page of the newest run of `runs` (which has a stored timeline): `moves`
    back from the last frame, then as many forward. Rows of (what, seconds, note)."""
    from playwright.sync_api import sync_playwright

    log = runs.parent / f"streamlit-{runs.name}.log"
    with serve_app(runs, log) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(180_000)
        try:
            started = time.perf_counter()
            first = open_timeline(page, url)
            opened = time.perf_counter() - started
            page.get_by_text("Pairs shown").first.wait_for()  # the page's own background job is done
            time.sleep(2.0)
            seconds, seen = [], {first["title"]}
            for by in [-1] * moves + [1] * moves:
                s, frame = move_step(page, by)
                seconds.append(s)
                seen.add(frame["title"])
                time.sleep(PAUSE_S)
            if shots is not None:
                page.screenshot(path=str(shots), full_page=True)
        finally:
            browser.close()
    load = os.getloadavg()[0]
    return [
        ("Map page opened to timeline frame drawn", opened, "first visit, map stored"),
        (f"slider move to frame drawn, median of {len(seconds)}", statistics.median(seconds),
         f"target {TARGET_S:g} s; {len(seen)} different frames drawn"),
        ("slider move to frame drawn, slowest", max(seconds), f"1-min load average after: {load:.2f}"),
    ]  # fmt: skip
