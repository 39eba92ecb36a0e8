"""Probes page: linear, kNN and GCN accuracy of the selected runs beside raw pixels, per label
budget, and the stored reproduction of Zhang, Lu & Xuan 2023. Numbers come from lab."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lab.measures.probes.table import GCN_TAU, PROBES
from lab.papers.zhang2023 import analysis, jobs
from lab.papers.zhang2023.constants import CITE, KEY
from lab.papers.zhang2023.probes import stored_probe_table
from lab.store import export
from lab.store.baselines import pixel_baseline_of
from lab.store.label_probes import stored_label_probes
from lab.store.neighbours import same_images
from lab.view import figures
from lab.view.labels import run_label
from lab.view.sweep_figures import label_probe_figure
from lab.view.tables import probe_rows
from pages.ui import state
from pages.ui.axis import axis_sliders
from pages.ui.charts import PALETTE
from pages.ui.progress import ensure_result
from pages.ui.reports import stored_report

state.require_app()  # a page opened by its URL right after the server started

AUTO_ROWS = 5_000  # compute without asking below this many images (seconds); above, on a click

st.title("Probes: what a classifier can read off the features")
st.caption(
    f"After {CITE}. Each probe learns from a budget of training labels (1 %, 10 %, 100 %, class "
    "balanced) on frozen backbone features h and is scored on the test split. Choices (C, GCN step) are made on "
    "held-out training labels, never on test labels. The GCN runs over the RLD graph of train + test images "
    f"(τ = {GCN_TAU:g}) with label embeddings as inputs, as in the paper, or with the features as inputs [L]. Bars "
    "show 95 % bootstrap intervals over test images. **[P]** the paper's · **[L]** the lab's design."
)

run = state.current_run()
if run is None:
    st.info("Probes need a trained model. Train one on the Train page.", icon=":material/info:")
    stored_report(KEY)
    st.stop()

axis_sliders(run, "probes")  # a sweep's runs: embedding size or strength as a slider

sets = run.label_sets()
st.subheader(f"This run, every label set: {', '.join(sets)}")
st.caption("A linear probe per label set the dataset carries, on the backbone h, the projector z and the raw "
           "pixels (PCA-64), fitted on up to 10,000 class-balanced training images and scored on every test image "
           "[L]. Fast enough to follow the slider above.")  # fmt: skip
label_rows = ensure_result(stored_label_probes(run), "label-probes", run, "probes per label set")
if label_rows:
    st.plotly_chart(figures.chart(label_probe_figure(label_rows)), key="probe_label_sets", theme=None)
st.subheader("Probes per label budget, beside other runs")
root = state.runs_root()
runs = state.list_runs()
by_id = {r.id: r for r in runs}
partners = [rid for rid, r in by_id.items() if rid != run.id and r.config.dataset == run.config.dataset]
contrast = [
    rid for rid in partners if same_images(run, by_id[rid]) and by_id[rid].config.method != run.config.method
][:1]
picked = st.multiselect("Runs of the same dataset", [run.id, *partners], default=[run.id, *contrast],
                        format_func=lambda i: run_label(by_id[i], among=runs), key="probe_runs",
                        help="The raw-pixel baseline (PCA-64, same split) is always added.")  # fmt: skip
chosen = [state.load_run(root, rid) for rid in picked]
sizes = sorted({int((~r.is_test).sum()) for r in chosen})
if len(sizes) > 1:
    st.info(f"These runs were trained on different numbers of images ({', '.join(f'{n:,}' for n in sizes)}): each probe "
            f"learns from a budget of its own run's training labels, and all are scored on the same "
            f"{int(run.is_test.sum()):,} test images. The pixel row uses the selected run's training images.",
            icon=":material/join_inner:")  # fmt: skip
pixels = pixel_baseline_of(run, compute=False)  # None until the worker has made it (with its probes)
for rep in chosen + ([pixels] if pixels is not None else []):
    for p in analysis.run_problems(rep):
        st.error(f"{run_label(rep, score=False, ident=True)}: {p}", icon=":material/error:")
chosen = [r for r in chosen if not analysis.run_problems(r)]
tables = {r.id: stored_probe_table(r) for r in chosen}
tables["pixels"] = stored_probe_table(pixels) if pixels is not None else None
# (what is missing, the run its job reads, "run" or "pixels")
missing = [(run_label(r, among=runs, score=False), r, "run") for r in chosen if tables[r.id] is None]
missing += [("pixels (PCA-64)", run, "pixels")] if tables["pixels"] is None else []
if missing:
    n = len(run.labels)
    names = ", ".join(name for name, _, _ in missing)
    if n <= AUTO_ROWS or st.session_state.get("probe_asked") == names or st.button(
            f"Compute the probes for {names}", type="primary", key="probe_go", icon=":material/play_arrow:"):  # fmt: skip
        st.session_state["probe_asked"] = names
        for name, r, kind in missing:
            ensure_result(None, jobs.PROBES, r, f"probes of {name}", params={"rep": kind})
    else:
        st.info(f"Not computed yet for {names}. On {n:,} images each table takes minutes on 2 cores "
                "(a linear probe per budget, six GCN fits); it is stored with the run.", icon=":material/schedule:")  # fmt: skip

rows = [row for t in tables.values() if t for row in t]
scored = [r for r in rows if r.get("accuracy") is not None]
if scored:
    fig = go.Figure()
    for i, feats in enumerate(dict.fromkeys(r["features"] for r in scored)):
        mine = [r for r in scored if r["features"] == feats]
        colour = "#999999" if feats.startswith("pixels") else PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Bar(
            x=[[f"{r['budget']:.0%} of the labels" for r in mine], [PROBES[r["probe"]].short for r in mine]],
            y=[r["accuracy"] for r in mine], name=feats, marker_color=colour,
            error_y=dict(type="data", symmetric=False, array=[r["ci_high"] - r["accuracy"] for r in mine],
                         arrayminus=[r["accuracy"] - r["ci_low"] for r in mine], thickness=1.2, width=3),
            hovertemplate="%{y:.3f}<extra>" + feats + "</extra>",
        ))  # fmt: skip
    low = min(r["ci_low"] for r in scored)
    fig.update_layout(barmode="group", height=420, margin=dict(l=10, r=10, t=70, b=10),
                      yaxis=dict(title="test accuracy", range=[max(0.0, low - 0.05), 1.0]),
                      xaxis=dict(tickangle=0), legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                      title=dict(text="Test accuracy per label budget and probe (95 % intervals)", y=0.98))  # fmt: skip
    st.plotly_chart(figures.chart(fig), key="probe_bars", theme=None)
    table = pd.DataFrame(probe_rows(scored)).drop(columns=["budget", "ci_low", "ci_high"])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"accuracy": st.column_config.NumberColumn(format="%.3f"),
                                "seconds": st.column_config.NumberColumn(format="%.1f")})  # fmt: skip
    with st.container(horizontal=True):
        st.download_button("This table (.csv)", export.rows_csv(probe_rows(scored)), "probes.csv", "text/csv",
                           on_click="ignore")  # fmt: skip
        st.download_button("All rows, notes included (.json)", export.rows_json(rows), "probes.json",
                           "application/json", on_click="ignore")  # fmt: skip
        st.download_button("Chart (interactive .html)", export.figure_html(fig), "probes.html", "text/html",
                           on_click="ignore")  # fmt: skip
for note in sorted({r["note"] for r in rows if r.get("note")}):
    st.caption(f"Not scored: {note}")

st.divider()
stored_report(KEY)
