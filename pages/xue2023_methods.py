"""Methods side by side (Xue et al. 2023): cross-entropy, SupCon, SimCLR and the joint loss trained
on the same data and seed; what each lets a probe read (classes, subclasses, digits) beside raw
pixels, and the subclass probe over training. Numbers come from lab.papers.xue2023."""

import plotly.graph_objects as go
import streamlit as st

from lab.core.config import TrainConfig, default_epochs, protocol_config
from lab.core.methods import ALPHA
from lab.papers.xue2023 import jobs
from lab.papers.xue2023.constants import CITATION, COMPARED_METHODS, SNAPSHOTS, TITLE
from lab.papers.xue2023.datasets import Q
from lab.papers.xue2023.probes import stored_curve
from lab.store.export import rows_csv
from lab.store.label_probes import stored_label_probes
from lab.store.runs import RunDamaged, RunStore
from lab.view import figures
from lab.view.labels import run_label
from pages.ui import state
from pages.ui.charts import PALETTE
from pages.ui.progress import ensure_result, job_progress

state.require_app()  # a page opened by its URL right after the server started

st.title("Methods side by side")
st.caption(
    f'After {CITATION}, "{TITLE}". Supervised contrastive learning (SupCon) pulls a class together and so '
    "can erase its subclasses (class collapse, C1/C2); unsupervised contrastive learning (SimCLR) keeps the "
    "easiest features and can suppress harder ones (C3/C4); their weighted sum, the joint loss, avoids both "
    "(C5) [P]. Here the four losses train on the same images and seed; the probes read each label set off the "
    "backbone features h. The datasets are the lab's adaptations to Fashion-MNIST [L]."
)

choices = [d for d in ("fashion-mnist-coarse", "digit-on-fashion-mnist", "cifar100-coarse", "digits")
           if d in state.available_datasets()]  # fmt: skip
c1, c2, c3, c4 = st.columns(4)
dataset = c1.selectbox("Dataset", choices, key="xm_dataset",
                       help="fashion-mnist-coarse: trains on 5 coarse classes, probes the 10 fine ones. "
                            "digit-on-fashion-mnist: a random digit on each garment, probed beside the garment.")  # fmt: skip
subset = c2.number_input("Training images", 200, 60_000, 10_000 if dataset != "digits" else 1_000, step=1000,
                         key=f"xm_subset-{dataset}")  # fmt: skip
epochs = c3.number_input(
    "Epochs",
    0.1,
    50.0,
    float(default_epochs("simclr", dataset, protocol=True)),
    step=0.5,
    key=f"xm_ep-{dataset}",
)
seed = c4.number_input("Seed", 0, 10_000, 0, key="xm_seed")
c1, c2 = st.columns(2)
alpha = c1.slider(
    ALPHA.label, 0.0, 1.0, ALPHA.default, ALPHA.step, key="xm_alpha", help=f"{ALPHA.help} {ALPHA.tag}"
)
extra = {}
if dataset == "digit-on-fashion-mnist":
    extra["q"] = c2.slider(Q.label, 0.0, 1.0, Q.default, Q.step, key="xm_q", help=f"{Q.help} {Q.tag}")


def config(method: str) -> TrainConfig:
    params = {"alpha": alpha} if method == "joint" else {}
    return protocol_config(dataset=dataset, subset=int(subset), method=method, epochs=float(epochs), seed=int(seed),
                           snapshots=SNAPSHOTS, **params, **extra)  # fmt: skip


try:
    configs = {m: config(m) for m in COMPARED_METHODS}
except ValueError as exc:
    st.error(f"These settings cannot be trained: {exc}")
    st.stop()
store, mgr = RunStore(state.runs_root()), state.manager()
runs = {}
for m, cfg in configs.items():
    try:
        runs[m] = store.find(cfg)
    except RunDamaged as exc:
        st.warning(f"{exc} Training it again moves it aside.", icon=":material/warning:")
missing = [m for m in COMPARED_METHODS if runs.get(m) is None]
if missing:
    st.caption(f"Not trained yet: {', '.join(missing)}. Each run records {SNAPSHOTS} snapshots of its features for "
               "the subclass curve; they queue one after another in the background.")  # fmt: skip
    if st.button(f"Train {'all four' if len(missing) == 4 else ', '.join(missing)}", type="primary",
                 icon=":material/play_arrow:", key="xm_train"):  # fmt: skip
        st.session_state["xm_jobs"] = [mgr.submit_training(configs[m]).key for m in missing]
    for key in st.session_state.get("xm_jobs", []):
        job = mgr.job(key)
        if job is not None and job.active:
            job_progress(key, poll=2.0)
            break
stored = {m: r for m, r in runs.items() if r is not None}
if not stored:
    st.stop()

st.markdown("#### What a probe reads off each representation (h, test images)")
tables = {
    m: ensure_result(stored_label_probes(r), "label-probes", r, f"probes of {m}") for m, r in stored.items()
}
rows = [
    row | {"method": m} for m, t in tables.items() if t for row in t if row["space"] in ("backbone", "pixels")
]
if rows:
    fig = go.Figure()
    groups = [*stored, "pixels"]
    for i, g in enumerate(groups):
        mine = [
            r
            for r in rows
            if (r["space"] == "pixels") == (g == "pixels") and (g == "pixels" or r["method"] == g)
        ]
        mine = list({r["labels"]: r for r in mine}.values())  # pixels appear once per run: keep one
        fig.add_trace(go.Bar(x=[r["labels"] for r in mine], y=[r["linear"] for r in mine], name=g,
                             marker_color="#999999" if g == "pixels" else PALETTE[i % len(PALETTE)],
                             hovertemplate="%{y:.3f}<extra>" + g + "</extra>"))  # fmt: skip
    fig.update_layout(barmode="group", height=360, yaxis=dict(title="linear probe, test accuracy", range=[0, 1]),
                      xaxis=dict(title="labels probed"), margin=dict(l=10, r=10, t=10, b=10))  # fmt: skip
    st.plotly_chart(figures.chart(fig), key="xm_bars", theme=None)
    st.download_button(
        "Probe table (.csv)", rows_csv(rows), f"methods-{dataset}.csv", "text/csv", on_click="ignore"
    )

st.markdown("#### The subclass probe over training")
curve_labels = "fine" if "fine" in next(iter(stored.values())).label_sets() else "class"
if curve_labels == "class":
    st.caption(f"{dataset} has no subclass labels: the curve probes its classes instead (the subclass curve "
               "needs fashion-mnist-coarse or cifar100-coarse).")  # fmt: skip
curves = {
    m: ensure_result(
        stored_curve(r, curve_labels),
        jobs.CURVE,
        r,
        f"{curve_labels} curve of {m}",
        poll=2.0,
        params={"labels": curve_labels},
    )
    for m, r in stored.items()
}
fig = go.Figure()
for m, c in curves.items():
    if c is not None:
        fig.add_trace(go.Scatter(x=c["steps"], y=c["accuracy"], mode="lines+markers", name=m,
                                 line=dict(color=PALETTE[COMPARED_METHODS.index(m) % len(PALETTE)])))  # fmt: skip
fig.update_layout(height=320, xaxis_title="training step", yaxis=dict(title="probe accuracy (test)", range=[0, 1]),
                  margin=dict(l=10, r=10, t=10, b=10))  # fmt: skip
st.plotly_chart(figures.chart(fig), key="xm_curves", theme=None)
done = {m: c for m, c in curves.items() if c is not None}
if done:
    name = next(iter(done.values()))["labels"]
    st.caption(f"The linear probe on the {name} labels of a class-balanced set of up to 5,000 images, at each of "
               f"{SNAPSHOTS} snapshots. Collapse drop = best accuracy over training − final accuracy: "
               + "; ".join(f"{m} {c['collapse_drop']:.3f} ({c['max']:.3f} → {c['final']:.3f})" for m, c in done.items()))  # fmt: skip
st.caption("Runs: " + "; ".join(run_label(r, among=list(stored.values())) for r in stored.values()))
