"""app.py's shell around ONE page, picked by the `page` query parameter, for AppTest.

AppTest (Streamlit 1.67) runs the page file alone after `switch_page`, without the main script,
so the sidebar (and the selected run it holds) would vanish. This harness runs the same
sidebar and warm-up as app.py, then the requested page (a path under pages/, e.g. "train" or
"zhang2023_density"), on every run.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from pages.ui import state  # noqa: E402
from pages.ui.progress import ensure_scores  # noqa: E402
from pages.ui.sidebar import sidebar  # noqa: E402

page = st.query_params.get("page", "train")
nav = st.navigation([st.Page(str(REPO / "pages" / f"{page}.py"), default=True)], position="hidden")
selected = sidebar()
if selected is not None:
    ensure_scores(selected, show=False)
try:
    nav.run()
finally:
    state.manager().start_warm_up()
