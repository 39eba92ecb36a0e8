"""The training timeline in a real browser: how long a move of the Map page's step slider takes to redraw
the movie's frame (target 0.3 s). `python -m lab bench-timeline --browser` runs it after the timeline is
stored; tests/app/test_browser_timeline.py uses the same helpers to check that two different frames are
drawn.

Serves `streamlit run app.py` over a runs folder, opens the Map page of its newest run in Debian's
chromium (Playwright, headless), waits until the map, the timeline's frame and the cross-class pairs
are drawn (so no background job of the page's own is running), then presses the arrow keys on the
"Step" slider. Each move is timed in the page: from the keydown to the second animation frame after the
frame chart shows the new snapshot's title and its points (Plotly has drawn it). A user looks at each
frame: the moves are 0.5 s apart.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lab.bench.browser import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy

REPO = Path(__file__).resolve().parents[2]
TARGET_S = 0.3
PAUSE_S = 0.5  # between two moves

# The timeline's frame chart: the plotly chart titled "Snapshot i of S ..." (lab.view.timeline.frame_figure).
FRAME_JS = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => g._fullLayout && /^Snapshot /.test((g._fullLayout.title || {}).text || ''));
  if (!gd) return null;
  const t = gd._fullData[0];
  return {title: gd._fullLayout.title.text, points: t ? Array.from(t.x.slice(0, 8)).join(',') : ''};
}"""
# Remembers when a key goes down, for the page-side timing of the next redraw.
KEYDOWN_JS = (
    """document.addEventListener('keydown', () => { window.__labKeyAt = performance.now(); }, true);"""
)
# Milliseconds from the last keydown until the frame chart shows another title than `before` and two
# animation frames have passed (the new points are on screen).
REDRAWN_JS = f"""(before) => new Promise(resolve => {{
  const check = () => {{
    const f = ({FRAME_JS})();
    if (f && f.title !== before) {{
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - window.__labKeyAt)));
    }} else {{ requestAnimationFrame(check); }}
  }};
  check();
}})"""


@contextlib.contextmanager
def serve_app(runs: Path, log_path: Path):
    """`streamlit run app.py` on a free localhost port over a runs folder; yields its URL."""
    port = free_port()
    env = {**os.environ, "LAB_RUNS_DIR": str(runs), "NUMBA_CACHE_DIR": str(REPO / ".cache" / "numba")}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, timeout=120)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def open_timeline(page, url: str) -> dict:
    """Open the Map page of the newest run and wait until its timeline's frame is drawn; returns the
    frame ({title, points})."""
    page.add_init_script(KEYDOWN_JS)
    page.goto(f"{url}/map")
    page.get_by_text("Training timeline").first.wait_for()
    page.wait_for_function(f"() => ({FRAME_JS})() !== null")
    page.get_by_role("slider", name="Step").scroll_into_view_if_needed()
    return page.evaluate(FRAME_JS)


def move_step(page, key: str) -> tuple[float, dict]:
    """Press `key` (ArrowLeft, ArrowRight) on the step slider; returns the seconds until the new frame
    is drawn (timed in the page) and that frame ({title, points})."""
    before = page.evaluate(FRAME_JS)
    slider = page.get_by_role("slider", name="Step")
    slider.focus()
    slider.press(key)
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
            for key in ["ArrowLeft"] * moves + ["ArrowRight"] * moves:
                s, frame = move_step(page, key)
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
