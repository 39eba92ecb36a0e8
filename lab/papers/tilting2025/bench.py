"""`python -m lab bench-paper tilting2025 [--quick]`: the paper's speed targets (issue 22) on this machine.

- one simulation run (N = 512, 1,500 steps, the low-rank demo's defaults, two-sided loss) within 10 s
  on one core (torch runs it on one thread), beside the 2-D example's run;
- the theory page's default view within 5 s: the page opened with nothing stored and the app's worker
  already warm (as after the app's start), until its main result is drawn; and the same page again
  once the result is stored;
- the paper-claims page within 1 s (it only reads stored reports).

The two pages run under Streamlit's AppTest in a child process (the lab itself never imports
streamlit), with a temporary runs folder, after the modules app.py imports at its start. Times are
wall-clock, polled every 0.1 s; the worker runs at nice 10, so a busy machine slows the cold view most.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab.store.provenance import machine_line

REPO = Path(__file__).resolve().parents[3]
TARGETS = {"simulation": 10.0, "theory page": 5.0, "claims page": 1.0}
# Run in a child process: the default view of a page under AppTest, timed (argv: page, label to wait for).
PAGE_TIMER = r"""
import json, os, sys, time
from streamlit.testing.v1 import AppTest
import lab.papers, pages.ui.state  # what app.py has imported before any page runs
from lab.worker.manager import get_manager

warm = get_manager(os.environ["LAB_RUNS_DIR"]).start_warm_up()
while warm.active:
    time.sleep(0.1)
page, wait_for, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for _ in range(repeats):
    at = AppTest.from_file(page, default_timeout=120)
    start = time.perf_counter()
    at.run()
    while wait_for and not any(m.label.startswith(wait_for) for m in at.metric):
        if time.perf_counter() - start > 120 or at.exception:
            break
        time.sleep(0.1)
        at.run()
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds": times, "exception": [str(e.value) for e in at.exception]}))
"""


def time_page(page: str, wait_for: str, repeats: int, runs_dir: Path) -> dict:
    """Seconds until `page` shows a metric whose label starts with `wait_for`, per fresh session."""
    env = {**os.environ, "LAB_RUNS_DIR": str(runs_dir), "LAB_WARM_UP_BASELINE": "0"}
    out = subprocess.run([sys.executable, "-c", PAGE_TIMER, page, wait_for, str(repeats)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"timing {page} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_simulations(repeats: int) -> dict:
    from lab.papers.tilting2025.simulation import SimulationConfig, train_tilt

    out = {}
    for name, cfg in (("low-rank, two-sided", SimulationConfig()),
                      ("2-D example, two-sided", SimulationConfig(problem="example"))):  # fmt: skip
        out[name] = [train_tilt(cfg).seconds for _ in range(repeats)]
    return out


def _line(what: str, seconds: float, target: float, note: str = "") -> str:
    verdict = "met" if seconds <= target else "MISSED"
    return f"  {what:<58} {seconds:6.2f} s   target ≤ {target:g} s: {verdict}{note}"


def main(quick: bool = False) -> int:
    repeats = 1 if quick else 3
    print(f"tilting2025 benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {machine_line()}")
    sims = time_simulations(repeats)
    for name, secs in sims.items():
        print(_line(f"one simulation run ({name}), N = 512, 1,500 steps", statistics.median(secs),
                    TARGETS["simulation"], f"   (median of {len(secs)}: {', '.join(f'{s:.2f}' for s in secs)})"))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        cold = time_page("pages/tilting2025_theory.py", "Largest principal angle", 1, Path(tmp))
        warm = time_page("pages/tilting2025_theory.py", "Largest principal angle", repeats, Path(tmp))
        claims = time_page("pages/claims.py", "", repeats + 1, Path(tmp))
    for name, r in (("theory page, default view, nothing stored", cold),
                    ("theory page, default view, result stored", warm)):  # fmt: skip
        print(
            _line(
                name,
                r["seconds"][0] if r is cold else statistics.median(r["seconds"]),
                TARGETS["theory page"],
            )
        )
    print(_line("claims page, first open", claims["seconds"][0], TARGETS["claims page"]))
    print(_line("claims page, again", statistics.median(claims["seconds"][1:]), TARGETS["claims page"]))
    print(
        "  (pages under Streamlit's AppTest, worker warm, polled every 0.1 s; simulations on one torch thread)"
    )
    return 0
