"""SSL Lab: navigation and sidebar. Run with `streamlit run app.py`.

The "Analyses" section comes from the paper registry (lab.papers): each paper lists its pages. A
paper package that fails to import gets a page of its own that shows the error.
"""

import os
from pathlib import Path

# Before anything imports numba (umap does): keep its compiled code between app starts.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent / ".cache" / "numba"))

import streamlit as st  # noqa: E402

from lab.papers import FAILED, PAPERS  # noqa: E402
from lab.sweep.background import resume_sweeps  # noqa: E402
from pages.ui import state  # noqa: E402
from pages.ui.charts import screen_probe  # noqa: E402
from pages.ui.progress import ensure_scores  # noqa: E402
from pages.ui.reports import broken_paper  # noqa: E402
from pages.ui.sidebar import sidebar  # noqa: E402

st.set_page_config(page_title="SSL Lab", page_icon="🔬", layout="wide")


def broken_paper_page(key: str) -> st.Page:
    return st.Page(
        lambda: broken_paper(key, FAILED[key]), title=key, icon=":material/report:", url_path=f"paper-{key}"
    )


PAGES = {
    "Train and explore": [
        st.Page("pages/train.py", title="Train", icon=":material/model_training:", default=True),
        st.Page("pages/map.py", title="Map", icon=":material/scatter_plot:"),
        st.Page("pages/compare.py", title="Compare runs", icon=":material/compare:"),
        st.Page("pages/sweeps.py", title="Sweeps", icon=":material/grid_on:"),
    ],
}
analyses = [st.Page("pages/claims.py", title="Paper claims", icon=":material/fact_check:")]
analyses += [
    st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url)
    for paper in PAPERS.values()
    for p in paper.pages
]
analyses += [broken_paper_page(key) for key in FAILED]
if analyses:
    PAGES["Analyses"] = analyses

page = st.navigation(PAGES)
# Start the background worker and UMAP's one-time numba warm-up now (idempotent): its imports take
# ~5 s on one core, so that a first click on "Start training" does not wait for them. Measured with
# `python -m lab bench-browser`: the first page still appears within ~6 s.
state.manager().start_warm_up()
state.manager().lay_out_maps(state.list_runs())  # idle work: stored runs' maps, newest first, once
resume_sweeps(state.manager())  # a sweep the last app stopped mid-way goes on (once per process)
selected = sidebar()
if selected is not None:
    ensure_scores(selected, show=False)  # a run stored before its scores (e.g. the app stopped mid-scoring)
page.run()
screen_probe()  # after the page (see its docstring)
