"""SSL Lab: navigation, sidebar and shared session state. Run with `streamlit run app.py`."""

import os
from pathlib import Path

# Before anything imports numba (umap does): keep its compiled code between app starts.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent / ".cache" / "numba"))

import streamlit as st  # noqa: E402

from pages import common  # noqa: E402

st.set_page_config(page_title="SSL Lab", page_icon="🔬", layout="wide")

HERE = Path(__file__).resolve().parent
PAGES = {
    "Train and explore": [
        st.Page("pages/1_train.py", title="Train", icon=":material/model_training:", default=True),
        st.Page("pages/2_map.py", title="Map", icon=":material/scatter_plot:"),
        st.Page("pages/3_compare.py", title="Compare runs", icon=":material/compare:"),
    ],
}
ANALYSES = [  # issue 6's pages, listed once their files exist
    ("pages/4_density.py", "Density", ":material/blur_on:"),
    ("pages/5_probes.py", "Probes", ":material/insights:"),
]
if analyses := [st.Page(p, title=t, icon=i) for p, t, i in ANALYSES if (HERE / p).is_file()]:
    PAGES["Analyses"] = analyses

page = st.navigation(PAGES)
# Start the background worker and UMAP's one-time numba warm-up now (idempotent): its imports take
# ~5 s on one core, so that a first click on "Start training" does not wait for them. Measured with
# `python -m lab bench-browser`: the first page still appears within ~6 s.
common.manager().start_warm_up()
common.sidebar()
page.run()
common.screen_probe()  # after the page (see its docstring)
