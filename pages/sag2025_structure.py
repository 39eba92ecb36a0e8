"""Global-structure page: M1 and M2 of every stored run on the selected run's images and of the pixel
baseline, as one table, a sag-vicreg run's walk precision over training, and the stored reproduction of
SAG-VICReg. Numbers come from lab.papers.sag2025.analysis, computed by the worker."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lab.papers.sag2025 import analysis, jobs
from lab.papers.sag2025.constants import CITE, KEY, M2_CLUSTERS, M2_K, M2_POINTS, TREE_NOTES
from lab.store.baselines import PIXELS_NAME, pixel_baseline_of
from lab.store.neighbours import same_images
from lab.view import figures
from lab.view.labels import run_label
from pages.ui import state
from pages.ui.charts import SPACE_LABELS
from pages.ui.progress import ensure_result
from pages.ui.reports import stored_report

state.require_app()  # a page opened by its URL right after the server started

st.title("Global structure")
st.caption(
    f"After {CITE}. The paper scores how well an embedding keeps the *global* semantic layout with a label-free "
    "spectral metric we could not read; the lab shows two stand-ins of its own **[L]**. **M1** (label-based): "
    "class centroids of the normalised test embeddings, their cosine distances rank-correlated with a superclass "
    "tree (Spearman, Kendall τ-b), the share of within-superclass pairs closer than across ones (AUC), and the "
    "cophenetic correlation of an average-linkage dendrogram with the tree (the graded one). **M2** (label-free): "
    f"k-means ({M2_CLUSTERS} clusters) on {M2_POINTS:,} test embeddings, centroid distances rank-correlated with "
    f"the same clusters in a diffusion map (kNN graph, k = {M2_K}). M2 is a sanity check only: in the lab's "
    "measurements it did not track quality."
)

run = state.current_run()
if run is None:
    st.info("Global structure needs a trained model. Train one on the Train page.", icon=":material/info:")
    stored_report(KEY)
    st.stop()

root = state.runs_root()
space = st.segmented_control("Embedding space", ["backbone", "projector"], default="backbone", key="struct_space",
                             format_func=SPACE_LABELS.get) or "backbone"  # fmt: skip
runs = [r for r in state.list_runs() if same_images(run, r)]
st.markdown(
    f"**Superclass tree:** {TREE_NOTES.get(run.config.dataset, 'none for this dataset: M1 is not defined')}"
)

rows = []
for r in runs:  # every run is asked for at once: the worker computes them in turn
    s = ensure_result(
        analysis.stored_structure(r, space), jobs.STRUCTURE, r, f"M1 and M2 of {r.config.method}", space
    )
    if s is not None:
        rows.append(analysis.structure_row(run_label(r, among=runs), r.metrics, s))
pixels = pixel_baseline_of(run, compute=False)
s = ensure_result(analysis.stored_structure(pixels, "backbone") if pixels is not None else None, jobs.STRUCTURE, run,
                  "M1 and M2 of the pixels", "backbone", {"rep": "pixels"})  # fmt: skip
if s is not None:
    rows.append(analysis.structure_row(PIXELS_NAME, run.metrics.get("pixels", {}), s))
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="struct_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in rows[0] if c != "representation"})  # fmt: skip
    st.caption(f"{len(rows)} of {len(runs) + 1} representations on these images (test split, {SPACE_LABELS[space].lower()}; "
               "the pixels have one space). Walk precision: sag-vicreg runs; pair precision: SePP runs.")  # fmt: skip

curve = run.metrics.get("method", {}).get("walk_precision_curve")
if curve:
    st.subheader("Walk precision during training")
    fig = go.Figure(go.Scatter(y=curve, mode="lines", name="walk precision"))
    fig.add_hline(y=1 / (int(run.labels.max()) + 1), line_dash="dot", annotation_text="chance")
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="step",
                      yaxis=dict(title="share of walks ending on the start's class", range=[0, 1]))  # fmt: skip
    st.plotly_chart(figures.chart(fig), key="walk_curve", theme=None)
    st.caption("Per training batch: the share of random walks (on the batch's kNN graph of view-1 expander outputs) "
               "that end on an image of the start's class. Labels are read for this display only.")  # fmt: skip

stored_report(KEY)
