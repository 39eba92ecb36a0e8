"""Density page: the paper's toy figure, then local density, class purity and cross-class pairs of
the selected run (and a second run on the same images, side by side). Every number comes from
lab.papers.zhang2023; the heavy ones are computed by the worker and stored with the run."""

import plotly.graph_objects as go
import streamlit as st

from lab.papers.zhang2023 import analysis, jobs
from lab.papers.zhang2023.constants import (
    CITE,
    LAYERS,
    PAPER_PURITY_SUPERVISED,
    PAPER_PURITY_VIT,
    PAPER_TOP_PAIR_CONTRASTIVE,
    PAPER_TOP_PAIR_SUPERVISED,
    PURITY_PS,
    RLD_DRAWS,
    RLD_N,
    RLD_TAUS,
)
from lab.papers.zhang2023.toys import TOY_KINDS, toy_clouds, toy_scores
from lab.store import export
from lab.store.baselines import pixel_baseline_of
from lab.store.neighbours import same_images
from lab.view import figures
from lab.view.labels import run_label
from pages.ui import state
from pages.ui.charts import PALETTE, SPACE_LABELS, plotly_config
from pages.ui.images import pairs_grid
from pages.ui.progress import ensure_map, ensure_pairs, ensure_result, ensure_table, shown_error

state.require_app()  # a page opened by its URL right after the server started

st.title("Local and global density")
st.caption(f"After {CITE}. Tags: **[P]** the paper's measure · **[L]** the lab's design or extension.")


# ---------------------------------------------------------------- 1. the paper's toy figure
@st.cache_resource(show_spinner=False)
def toy_figure(kind: str) -> go.Figure:
    x, y = toy_clouds(kind)
    fig = go.Figure(go.Scattergl(x=x[:, 0], y=x[:, 1], mode="markers", hoverinfo="skip",
                                 marker=dict(size=3, color=[PALETTE[c] for c in y])))  # fmt: skip
    fig.update_layout(height=210, margin=dict(l=0, r=0, t=26, b=0), plot_bgcolor="white", showlegend=False,
                      title=dict(text=kind, font=dict(size=13), x=0.5, xanchor="center"),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"))  # fmt: skip
    return figures.chart(fig)


@st.cache_data(show_spinner=False, max_entries=500)
def toy_score(kind: str, tau: float) -> dict:
    return toy_scores(kind, tau)  # 1,500 points: a few milliseconds


@st.fragment
def toy_panel() -> None:
    st.subheader("The paper's toy figure [P]")
    st.caption(
        "Five 2-D point sets, 5 classes × 300 points each, coloured by class. **RLD** (Relative Local "
        "Density) asks whether each point's *closest* points share its class; **CHS** (Calinski–Harabasz) "
        "asks whether whole classes are compact and far apart. Rings, lines and micro-clusters keep a high "
        "RLD while their CHS collapses to a few units: local density is not global density."
    )
    tau = st.slider("τ (temperature of the RLD graph)", 0.0, 0.5, 0.05, 0.01, key="dens_toy_tau",
                    help="Small τ: only the very nearest points count. The paper uses 0.05 for the toys.")  # fmt: skip
    if not tau > 0:
        st.warning("τ must be above 0: it divides the similarities before the softmax. Pick 0.01 or more.",
                   icon=":material/warning:")  # fmt: skip
        return
    for col, kind in zip(st.columns(len(TOY_KINDS)), TOY_KINDS, strict=True):
        with col:
            st.plotly_chart(toy_figure(kind), config=plotly_config(displayModeBar=False, staticPlot=True),
                            key=f"toy-{kind}", theme=None)  # fmt: skip
            s = shown_error(f"the {kind} toy", lambda kind=kind: toy_score(kind, tau))
            if s is None:
                continue
            st.metric(
                "RLD", f"{round(s['rld'], 2) + 0.0:.2f}", help="Relative Local Density [P], about [−0.5, 1)"
            )
            st.metric("CHS", f"{s['chs']:,.0f}", help="Calinski–Harabasz score [P], unbounded")


toy_panel()
st.divider()

# ---------------------------------------------------------------- 2. the selected run(s)
run = state.current_run()
if run is None:
    st.info(
        "The rest of this page measures a trained model. Train one on the Train page.", icon=":material/info:"
    )
    st.stop()

root, names = state.runs_root(), state.class_names(run.config.dataset)
runs = state.list_runs()
by_id = {r.id: r for r in runs}
partners = [rid for rid, r in by_id.items() if rid != run.id and same_images(run, r)]
contrast = next((i for i, rid in enumerate(partners) if by_id[rid].config.method != run.config.method), None)
c1, c2 = st.columns([3, 2])
other_id = c1.selectbox(
    "Side by side with", [None, *partners], index=0 if contrast is None else contrast + 1, key="dens_other",
    format_func=lambda i: "— this run alone —" if i is None else run_label(by_id[i], among=runs),
    help="A second run on the same images, e.g. supervised beside SimCLR, as in the paper's comparison.",
)  # fmt: skip
space = c2.segmented_control("Embedding space", ["backbone", "projector"], default="backbone", key="dens_space",
                             format_func=SPACE_LABELS.get) or "backbone"  # fmt: skip
shown = [run] + ([state.load_run(root, other_id)] if other_id else [])
st.subheader(" vs ".join(run_label(r, among=shown, score=False) for r in shown))

problems = {r.id: analysis.run_problems(r, space) for r in shown}
for r in shown:
    for p in problems[r.id]:
        st.error(f"Run {r.id} ({r.config.method}): {p}", icon=":material/error:")
shown = [r for r in shown if not problems[r.id]]
if not shown:
    st.stop()


def rld_of(r, tau: float):
    """The stored RLD of a run at τ, or None while the worker computes it."""
    return ensure_result(analysis.stored_run_rld(r, space, tau), jobs.RLD, r,
                         f"RLD of {r.config.method} at τ={tau:g}", space, {"tau": tau})  # fmt: skip


def density_of(r, rep: str = "run"):
    """(CHS, purity curve) of a run (or its pixel baseline), or None while the worker computes them."""
    target = r if rep == "run" else pixel_baseline_of(r, compute=False)
    stored = None
    if target is not None:
        chs, curve = analysis.stored_chs(target, space), analysis.stored_purity_curve(target, space)
        stored = (chs, curve) if chs is not None and curve is not None else None
    what = "pixels (PCA-64)" if rep == "pixels" else r.config.method
    return ensure_result(stored, jobs.DENSITY, r, f"CHS and purity of {what}", space, {"rep": rep})


st.markdown("#### Local vs global density")
tau = st.segmented_control("τ for RLD", RLD_TAUS, default=0.2, key="dens_tau",
                           format_func=lambda t: f"τ = {t:g}") or 0.2  # fmt: skip
st.caption(
    f"RLD [P] on {RLD_N:,}-point class-stratified subsamples of the training images, {RLD_DRAWS} draws (mean ± "
    "standard deviation; one draw when there are fewer points) [L]. CHS [P] on all training images. Computed "
    "once per run in the background and stored with it."
)
computed = {}  # run id -> (CHS, purity curve), asked for once per page run
for col, r in zip(st.columns(len(shown)), shown, strict=True):
    with col:
        res, dens = rld_of(r, tau), density_of(r)
        computed[r.id] = dens
        if res is None or dens is None:
            continue
        est = res.estimate
        a, b = st.columns(2)
        a.metric(f"RLD, τ = {tau:g} [P]", f"{est.mean:.3f}", f"± {est.std:.3f} over {len(est.values)} draw(s)",
                 delta_color="off", delta_arrow="off", border=True)  # fmt: skip
        b.metric("CHS [P]", f"{dens[0]:,.1f}", border=True)
        st.caption(f"{r.config.method}: per draw " + ", ".join(f"{v:.3f}" for v in est.values)
                   + f" · {est.n:,} points · {res.seconds:.1f} s")  # fmt: skip

stored = {r.id: analysis.stored_rld_taus(r, space) for r in shown}
missing = [(r, t) for r in shown for t in RLD_TAUS if t not in stored[r.id]]
if missing and st.button(f"Compute RLD at every τ ({len(missing)} missing)", key="dens_all_taus"):
    st.session_state["dens_all_taus_asked"] = True
if missing and st.session_state.get("dens_all_taus_asked"):
    for r, t in missing:
        rld_of(r, t)
fig = go.Figure()
for i, r in enumerate(shown):
    taus = sorted(stored[r.id])
    fig.add_trace(go.Scatter(x=taus, y=[stored[r.id][t].estimate.mean for t in taus], mode="lines+markers",
                             name=run_label(r, among=shown, score=False), line=dict(color=PALETTE[i]),
                             error_y=dict(type="data", array=[stored[r.id][t].estimate.std for t in taus])))  # fmt: skip
fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), title="RLD over τ (computed values)",
                  xaxis=dict(title="τ", type="log", tickvals=RLD_TAUS), yaxis=dict(title="RLD"))  # fmt: skip
st.plotly_chart(figures.chart(fig), key="dens_rld_tau", theme=None)


# ---------------------------------------------------------------- the map coloured by a per-point layer
@st.cache_resource(show_spinner=False, max_entries=8)
def layer_figures(root: str, rid: str, space: str, layer: str, tau: float) -> tuple[go.Figure, go.Figure]:
    """The map coloured by a per-point layer, and its 60 x 60 heatmap; built once per choice (the
    layer's inputs are stored by then, so this only reads them)."""
    r = state.load_run(root, rid)
    lay = analysis.run_map_layer(r, space, layer, tau)
    xy = state.run_map(root, rid, space)
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", hoverinfo="skip", showlegend=False,
                               marker=dict(size=3, color="#dddddd")))  # fmt: skip
    fig.add_trace(go.Scattergl(
        x=xy[lay.rows, 0], y=xy[lay.rows, 1], mode="markers", showlegend=False,
        marker=dict(size=4 if len(xy) < 20_000 else 2, color=lay.values, colorscale="Viridis",
                    colorbar=dict(title=dict(text=layer, side="right"), thickness=12)),
        hovertemplate="%{marker.color:.3f}<extra></extra>",
    ))  # fmt: skip
    fig.update_layout(height=420, margin=dict(l=0, r=0, t=30, b=0), plot_bgcolor="white",
                      title=dict(text=f"{run_label(r, score=False)}: {lay.label}", font=dict(size=13)),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))  # fmt: skip
    grid = analysis.map_heatmap(xy, lay)
    heat = go.Figure(go.Heatmap(z=grid.grid, x=grid.x_edges, y=grid.y_edges, colorscale="Viridis",
                                colorbar=dict(thickness=12), hoverongaps=False))  # fmt: skip
    heat.update_layout(height=320, margin=dict(l=0, r=0, t=30, b=0), plot_bgcolor="white",
                       title=dict(text="cell means on a 60 × 60 grid [L]", font=dict(size=13)),
                       xaxis=dict(visible=False), yaxis=dict(visible=False))  # fmt: skip
    return figures.chart(fig), figures.chart(heat)


st.markdown("#### Where on the map")
layer = st.segmented_control("Colour the map by", list(LAYERS), default="purity", key="dens_layer",
                             format_func=LAYERS.get) or "purity"  # fmt: skip
st.caption(
    "All per-point values are measured in the embedding space, never on the 2-D map. purity@10 [P]: share "
    "of a point's 10 nearest neighbours with its class. Per-point RLD [L, our extension]: each point's share "
    "q_i of the modularity, × n so that its mean is the RLD (only the subsample's points have one; the rest "
    "are grey). kNN density [L]: 1 / mean cosine distance to the 10 nearest. Below each map: the mean of the "
    "same value in each cell of a 60 × 60 grid over the map [L]."
)
# lists: ask for every missing map and neighbour table at once
if all([ensure_map(r, space) for r in shown]) and all([ensure_table(r, space) for r in shown]):
    for col, r in zip(st.columns(len(shown)), shown, strict=True):
        with col:
            if layer == "rld" and rld_of(r, tau) is None:
                continue
            ready = shown_error(f"the {layer} layer of {r.id}",
                                lambda r=r: layer_figures(root, r.id, space, layer, tau if layer == "rld" else 0.0))  # fmt: skip
            if ready is None:
                continue
            fig, heat = ready
            st.plotly_chart(fig, key=f"dens-map-{r.id}", theme=None, config=plotly_config())
            st.plotly_chart(heat, key=f"dens-heat-{r.id}", theme=None)

# ---------------------------------------------------------------- purity vs p
st.markdown("#### Class purity of neighbourhoods [P]")
st.caption(
    "Share of each training image's p nearest neighbours (cosine) that share its class, for "
    f"p = {', '.join(map(str, PURITY_PS))}. The paper's contrastive ViT: "
    f"{PAPER_PURITY_VIT[1]} → {PAPER_PURITY_VIT[max(PAPER_PURITY_VIT)]} (locally pure, globally mixed); its supervised "
    f"ViT ≈ {PAPER_PURITY_SUPERVISED} at every p. "
    "Raw pixels (PCA-64) are the baseline. For p close to a class's size, even perfect features lose purity."
)
curves = {r.id: (run_label(r, among=shown, score=False), computed.get(r.id)) for r in shown}
curves["pixels"] = ("pixels (PCA-64)", density_of(run, "pixels"))
curves = {rid: (name, d[1]) for rid, (name, d) in curves.items() if d is not None}
left, right = st.columns(2)
fig = go.Figure()
for i, (rid, (name, c)) in enumerate(curves.items()):
    style = dict(color="#888888", dash="dot") if rid == "pixels" else dict(color=PALETTE[i])
    fig.add_trace(go.Scatter(x=c.ps, y=c.overall, mode="lines+markers", name=name, line=style))
fig.add_trace(go.Scatter(x=list(PAPER_PURITY_VIT), y=list(PAPER_PURITY_VIT.values()), mode="markers",
                         name="paper, contrastive ViT", marker=dict(symbol="x", color="black")))  # fmt: skip
fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), title="Purity vs neighbourhood size p",
                  xaxis=dict(title="p (neighbours)", type="log", tickvals=PURITY_PS),
                  yaxis=dict(title="purity", range=[0, 1.02]))  # fmt: skip
left.plotly_chart(figures.chart(fig), key="dens_purity", theme=None)
with right:
    if curves:
        ps = next(iter(curves.values()))[1].ps.tolist()
        if len(ps) < len(PURITY_PS):
            st.warning(f"Purity is shown for p ≤ {ps[-1]} only: this run has fewer training images than the "
                       "larger neighbourhoods ask for (p + 1).", icon=":material/warning:")  # fmt: skip
        p_sel = st.select_slider("Per class at p", ps, value=10 if 10 in ps else ps[0], key="dens_p",
                                 disabled=len(ps) < 2)  # fmt: skip
        bars = go.Figure()
        for i, (rid, (name, c)) in enumerate(curves.items()):
            bars.add_trace(go.Bar(x=[names[k] for k in c.classes], y=c.per_class[:, ps.index(p_sel)], name=name,
                                  marker_color="#aaaaaa" if rid == "pixels" else PALETTE[i]))  # fmt: skip
        bars.update_layout(height=290, margin=dict(l=10, r=10, t=10, b=10), barmode="group", xaxis_type="category",
                           yaxis=dict(title=f"purity@{p_sel}", range=[0, 1.02]))  # fmt: skip
        st.plotly_chart(figures.chart(bars), key="dens_purity_class", theme=None)

# ---------------------------------------------------------------- cross-class pairs in both runs
st.markdown("#### Cross-class pairs [P]")
st.caption(
    "The most similar pairs of training images with *different* labels in the first run, with the same "
    "pairs' cosine in the second. Paper: the top pair scores "
    f"{PAPER_TOP_PAIR_CONTRASTIVE} under contrastive learning, {PAPER_TOP_PAIR_SUPERVISED} under supervised training "
    "(faiss top-50 per image here [L])."
)
if ensure_pairs(run, space) is not None:
    second = shown[1] if len(shown) > 1 else None
    pairs = shown_error("cross-class pairs", lambda: analysis.run_cross_class_pairs(run, second, space))
    if pairs is not None:
        a, b = st.columns(2)
        a.metric(f"Top pair, {run.config.method}", f"{pairs.cosine[0]:.3f}",
                 f"mean of top {len(pairs.cosine)}: {pairs.cosine.mean():.3f}", delta_color="off", delta_arrow="off", border=True)  # fmt: skip
        if second is None:
            b.info("Pick a second run above to see these pairs' similarity there.", icon=":material/info:")
        else:
            b.metric(f"Same pairs, {second.config.method}", f"{pairs.cosine_other[0]:.3f}",
                     f"mean of top {len(pairs.cosine)}: {pairs.cosine_other.mean():.3f}", delta_color="off", delta_arrow="off",
                     border=True)  # fmt: skip
        pairs_grid(state.run_images(root, run.id), pairs, names, run.labels, 12, cols=6,
                   other_cos=pairs.cosine_other, other_name=second.config.method if second else "")  # fmt: skip

st.markdown("#### Download")
reps = [*shown] + ([pixels] if (pixels := pixel_baseline_of(run, compute=False)) is not None else [])
table = analysis.stored_measures_rows(
    reps, [run_label(r, among=shown, score=False, ident=True) for r in reps], space
)
st.caption("Every measure computed above for these runs (and the pixel baseline), as stored with each run.")
with st.container(horizontal=True):
    st.download_button(
        "Measures (.csv)", export.rows_csv(table), "density-measures.csv", "text/csv", on_click="ignore"
    )
    st.download_button("Measures (.json)", export.rows_json(table), "density-measures.json", "application/json",
                       on_click="ignore")  # fmt: skip
