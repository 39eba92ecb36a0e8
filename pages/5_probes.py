"""Probes page: linear, kNN and GCN accuracy of the selected runs beside raw pixels, per label
budget, and the stored reproduction of Zhang, Lu & Xuan 2023. Numbers come from lab."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lab import analysis, figures, reproduce
from lab.neighbours import same_images
from pages import common

common.require_app()  # a page opened by its URL right after the server started

PROBE_NAMES = {
    "linear": "Linear [P]",
    "knn": "kNN, k = 20 [L]",
    "gcn-labels": "GCN, label inputs [P]",
    "gcn-features": "GCN, feature inputs [L]",
}
SHORT_NAMES = {
    "linear": "linear",
    "knn": "kNN",
    "gcn-labels": "GCN (labels)",
    "gcn-features": "GCN (features)",
}
AUTO_ROWS = 5_000  # compute without asking below this many images (seconds); above, on a click

st.title("Probes: what a classifier can read off the features")
st.caption(
    f"After {reproduce.PAPER}. Each probe learns from a budget of training labels (1 %, 10 %, 100 %, class "
    "balanced) on frozen backbone features h and is scored on the test split. Choices (C, GCN step) are made on "
    "held-out training labels, never on test labels. The GCN runs over the RLD graph of train + test images "
    "(τ = 0.2) with label embeddings as inputs, as in the paper, or with the features as inputs [L]. Bars show "
    "95 % bootstrap intervals over test images. **[P]** the paper's · **[L]** the lab's design."
)


def stored_report() -> None:
    st.subheader("Reproduction of the paper")
    found = reproduce.load_report()
    if found is None:
        st.info("No stored reproduction yet. Run `python -m lab reproduce zhang2023 --quick` (a few minutes) or "
                "without `--quick` for the full scale; the report lands in docs/reproduce/.", icon=":material/info:")  # fmt: skip
        return
    text, data = found
    verdicts = [c["verdict"] for s in data.get("datasets", []) for c in s.get("claims", [])]
    st.caption(f"Stored report of {data.get('date', '?')} · `{data.get('command', '?')}` · verdicts: "
               + ", ".join(f"{verdicts.count(v)} {v}" for v in reproduce.VERDICTS if v in verdicts))  # fmt: skip
    with st.expander("The report (docs/reproduce/zhang2023.md)", expanded=True):
        body = text.split("\n", 1)[1] if text.startswith("# ") else text  # the title is this section's
        st.markdown(
            body.replace("\n### ", "\n##### ").replace("\n## ", "\n#### ")
        )  # headings fit the expander
    a, b = st.columns(2)
    a.download_button("Report (.md)", text, "zhang2023.md", "text/markdown", on_click="ignore")
    b.download_button("Numbers (.json)", reproduce.report_paths()[1].read_bytes(), "zhang2023.json",
                      "application/json", on_click="ignore")  # fmt: skip


run = common.current_run()
if run is None:
    st.info("Probes need a trained model. Train one on the Train page.", icon=":material/info:")
    stored_report()
    st.stop()

root = common.runs_root()
by_id = {r.id: r for r in common.list_runs()}
partners = [rid for rid, r in by_id.items() if rid != run.id and same_images(run, r)]
contrast = [rid for rid in partners if by_id[rid].config.method != run.config.method][:1]
picked = st.multiselect("Runs on the same images", [run.id, *partners], default=[run.id, *contrast],
                        format_func=lambda i: common.run_label(by_id[i]), key="probe_runs",
                        help="The raw-pixel baseline (PCA-64, same split) is always added.")  # fmt: skip
reps = [common.load_run(root, rid) for rid in picked]
pixels = common.computed("the pixel baseline", lambda p: analysis.pixel_baseline_of(run))
reps += [pixels] if pixels is not None else []

blocked = {r.id: analysis.run_problems(r) for r in reps}
for r in reps:
    for p in blocked[r.id]:
        st.error(f"{analysis.representation_name(r)}: {p}", icon=":material/error:")
reps = [r for r in reps if not blocked[r.id]]
tables = {r.id: analysis.stored_probe_table(r) for r in reps}
missing = [r for r in reps if tables[r.id] is None]
if missing:
    n = len(run.labels)
    names = ", ".join(analysis.representation_name(r) for r in missing)
    if n <= AUTO_ROWS or st.button(f"Compute the probes for {names}", type="primary", key="probe_go",
                                   icon=":material/play_arrow:"):  # fmt: skip
        if common.manager().busy():
            st.caption("A background job is running; the probes share the cores with it and run slower.")
        for r in missing:
            tables[r.id] = common.computed(f"the probes of {analysis.representation_name(r)}",
                                    lambda p, r=r: analysis.run_probe_table(r, progress=p))  # fmt: skip
    else:
        st.info(f"Not computed yet for {names}. On {n:,} images each table takes minutes on 2 cores "
                "(a linear probe per budget, six GCN fits); it is stored with the run.", icon=":material/schedule:")  # fmt: skip

rows = [row for t in tables.values() if t for row in t]
scored = [r for r in rows if r.get("accuracy") is not None]
if scored:
    fig = go.Figure()
    for i, feats in enumerate(dict.fromkeys(r["features"] for r in scored)):
        mine = [r for r in scored if r["features"] == feats]
        colour = "#999999" if feats.startswith("pixels") else common.PALETTE[i % len(common.PALETTE)]
        fig.add_trace(go.Bar(
            x=[[f"{r['budget']:.0%} of the labels" for r in mine], [SHORT_NAMES[r["probe"]] for r in mine]],
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
    table = pd.DataFrame([{
        "representation": r["features"], "probe": PROBE_NAMES[r["probe"]],
        "labels": f"{r['budget']:.0%} ({r['n_labels']:,})", "accuracy": r["accuracy"],
        "95 % CI": f"{r['ci_low']:.3f} – {r['ci_high']:.3f}",
        "chosen without test labels": f"C = {r['C']:g}" if "C" in r else f"step {r['step']}" if "step" in r else "",
        "seconds": r.get("seconds"),
    } for r in scored])  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"accuracy": st.column_config.NumberColumn(format="%.3f"),
                                "seconds": st.column_config.NumberColumn(format="%.1f")})  # fmt: skip
for note in sorted({r["note"] for r in rows if r.get("note")}):
    st.caption(f"Not scored: {note}")

st.divider()
stored_report()
