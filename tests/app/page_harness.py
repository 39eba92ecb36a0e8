"""app.py's shell around ONE page, picked by the `page` query parameter, for AppTest.

AppTest (Streamlit 1.67) runs the page file alone after `switch_page`, without the main script,
so the sidebar (and the selected run it holds) would vanish. This harness runs the same
sidebar and warm-up as app.py, then the requested page, on every run.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from pages import common  # noqa: E402

page = st.query_params.get("page", "1_train")
nav = st.navigation([st.Page(str(REPO / "pages" / f"{page}.py"), default=True)], position="hidden")
common.sidebar()
try:
    nav.run()
finally:
    common.manager().start_warm_up()
