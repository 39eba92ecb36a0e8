"""Density page: the paper's toy figure, then local density, class purity and cross-class pairs of
the selected run (and a second run on the same images, side by side). Numbers come from lab."""

import plotly.graph_objects as go
import streamlit as st

from lab import analysis, figures
from lab.neighbours import same_images
from lab.toys import TOY_KINDS, toy_clouds, toy_scores
from pages import common

common.require_app()  # a page opened by its URL right after the server started

PAPER = 'Zhang, Lu & Xuan 2023, "How does Contrastive Learning Organize Images?" (arXiv 2305.10229)'
PAPER_PURITY_VIT = {1: 0.873, 10: 0.847, 100: 0.805, 500: 0.667, 1000: 0.527}  # contrastive ViT [P]

st.title("Local and global density")
st.caption(f"After {PAPER}. Tags: **[P]** the paper's measure · **[L]** the lab's design or extension.")


# ---------------------------------------------------------------- 1. the paper's toy figure
@st.cache_resource(show_spinner=False)
def toy_figure(kind: str) -> go.Figure:
    x, y = toy_clouds(kind)
    fig = go.Figure(go.Scattergl(x=x[:, 0], y=x[:, 1], mode="markers", hoverinfo="skip",
                                 marker=dict(size=3, color=[common.PALETTE[c] for c in y])))  # fmt: skip
    fig.update_layout(height=210, margin=dict(l=0, r=0, t=26, b=0), plot_bgcolor="white", showlegend=False,
                      title=dict(text=kind, font=dict(size=13), x=0.5, xanchor="center"),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"))  # fmt: skip
    return figures.chart(fig)


@st.cache_data(show_spinner=False, max_entries=500)
def toy_score(kind: str, tau: float) -> dict:
    return toy_scores(kind, tau)


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
            st.plotly_chart(toy_figure(kind), config=common.plotly_config(displayModeBar=False, staticPlot=True),
                            key=f"toy-{kind}", theme=None)  # fmt: skip
            try:
                s = toy_score(kind, tau)
            except ValueError as exc:
                st.error(str(exc))
                continue
            st.metric(
                "RLD", f"{round(s['rld'], 2) + 0.0:.2f}", help="Relative Local Density [P], about [−0.5, 1)"
            )
            st.metric("CHS", f"{s['chs']:,.0f}", help="Calinski–Harabasz score [P], unbounded")


toy_panel()
st.divider()

# ---------------------------------------------------------------- 2. the selected run(s)
run = common.current_run()
if run is None:
    st.info(
        "The rest of this page measures a trained model. Train one on the Train page.", icon=":material/info:"
    )
    st.stop()

root, names = common.runs_root(), common.class_names(run.config.dataset)
by_id = {r.id: r for r in common.list_runs()}
partners = [rid for rid, r in by_id.items() if rid != run.id and same_images(run, r)]
contrast = next((i for i, rid in enumerate(partners) if by_id[rid].config.method != run.config.method), None)
c1, c2 = st.columns([3, 2])
other_id = c1.selectbox(
    "Side by side with", [None, *partners], index=0 if contrast is None else contrast + 1, key="dens_other",
    format_func=lambda i: "— this run alone —" if i is None else common.run_label(by_id[i]),
    help="A second run on the same images, e.g. supervised beside SimCLR, as in the paper's comparison.",
)  # fmt: skip
space = c2.segmented_control("Embedding space", ["backbone", "projector"], default="backbone", key="dens_space",
                             format_func=common.SPACE_LABELS.get) or "backbone"  # fmt: skip
shown = [run] + ([common.load_run(root, other_id)] if other_id else [])
st.subheader(" vs ".join(analysis.representation_name(r) for r in shown))

problems = {r.id: analysis.run_problems(r, space) for r in shown}
for r in shown:
    for p in problems[r.id]:
        st.error(f"Run {r.id} ({r.config.method}): {p}", icon=":material/error:")
shown = [r for r in shown if not problems[r.id]]
if not shown:
    st.stop()
if common.manager().busy():
    st.caption(
        "A background job (training or a map) is running; analyses share the cores with it and run slower."
    )

st.markdown("#### Local vs global density")
tau = st.segmented_control("τ for RLD", analysis.RLD_TAUS, default=0.2, key="dens_tau",
                           format_func=lambda t: f"τ = {t:g}") or 0.2  # fmt: skip
st.caption(
    f"RLD [P] on {analysis.RLD_N:,}-point class-stratified subsamples of the training images, "
    f"{analysis.RLD_DRAWS} draws (mean ± standard deviation; one draw when there are fewer points) [L]. "
    "CHS [P] on all training images. Computed once per run and stored with it."
)
cols = st.columns(len(shown))
for col, r in zip(cols, shown, strict=True):
    with col:
        res = common.computed(f"RLD of {r.id}", lambda p, r=r: analysis.run_rld(r, space, tau, progress=p))
        chs = common.computed(f"CHS of {r.id}", lambda p, r=r: analysis.run_chs(r, space))
        if res is None or chs is None:
            continue
        est = res.estimate
        a, b = st.columns(2)
        a.metric(f"RLD, τ = {tau:g} [P]", f"{est.mean:.3f}", f"± {est.std:.3f} over {len(est.values)} draw(s)",
                 delta_color="off", delta_arrow="off", border=True)  # fmt: skip
        b.metric("CHS [P]", f"{chs:,.1f}", border=True)
        st.caption(f"{r.config.method}: per draw " + ", ".join(f"{v:.3f}" for v in est.values)
                   + f" · {est.n:,} points · {res.seconds:.1f} s")  # fmt: skip

stored = {r.id: analysis.stored_rld_taus(r, space) for r in shown}
missing = [(r, t) for r in shown for t in analysis.RLD_TAUS if t not in stored[r.id]]
if missing and st.button(f"Compute RLD at every τ ({len(missing)} missing)", key="dens_all_taus"):
    for r, t in missing:
        common.computed(f"RLD at τ={t:g}", lambda p, r=r, t=t: analysis.run_rld(r, space, t, progress=p))
    stored = {r.id: analysis.stored_rld_taus(r, space) for r in shown}
fig = go.Figure()
for i, r in enumerate(shown):
    taus = sorted(stored[r.id])
    fig.add_trace(go.Scatter(x=taus, y=[stored[r.id][t].estimate.mean for t in taus], mode="lines+markers",
                             name=analysis.representation_name(r), line=dict(color=common.PALETTE[i]),
                             error_y=dict(type="data", array=[stored[r.id][t].estimate.std for t in taus])))  # fmt: skip
fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), title="RLD over τ (computed values)",
                  xaxis=dict(title="τ", type="log", tickvals=analysis.RLD_TAUS), yaxis=dict(title="RLD"))  # fmt: skip
st.plotly_chart(figures.chart(fig), key="dens_rld_tau", theme=None)


# ---------------------------------------------------------------- the map coloured by a per-point layer
@st.cache_resource(show_spinner=False, max_entries=8)
def layer_figures(root: str, rid: str, space: str, layer: str, tau: float) -> tuple[go.Figure, go.Figure]:
    """The map coloured by a per-point layer, and its 60 x 60 heatmap; built once per choice (the
    layer itself is already computed and stored by then, so this only reads it)."""
    r = common.load_run(root, rid)
    lay = analysis.run_map_layer(r, space, layer, tau)
    xy = common.run_map(root, rid, space)
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
                      title=dict(text=f"{analysis.representation_name(r)}: {lay.label}", font=dict(size=13)),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))  # fmt: skip
    grid = analysis.map_heatmap(xy, lay)
    heat = go.Figure(go.Heatmap(z=grid.grid, x=grid.x_edges, y=grid.y_edges, colorscale="Viridis",
                                colorbar=dict(thickness=12), hoverongaps=False))  # fmt: skip
    heat.update_layout(height=320, margin=dict(l=0, r=0, t=30, b=0), plot_bgcolor="white",
                       title=dict(text="cell means on a 60 × 60 grid [L]", font=dict(size=13)),
                       xaxis=dict(visible=False), yaxis=dict(visible=False))  # fmt: skip
    return figures.chart(fig), figures.chart(heat)


st.markdown("#### Where on the map")
layer = st.segmented_control("Colour the map by", list(analysis.LAYERS), default="purity", key="dens_layer",
                             format_func=analysis.LAYERS.get) or "purity"  # fmt: skip
st.caption(
    "All per-point values are measured in the embedding space, never on the 2-D map. purity@10 [P]: share "
    "of a point's 10 nearest neighbours with its class. Per-point RLD [L, our extension]: each point's share "
    "q_i of the modularity, × n so that its mean is the RLD (only the subsample's points have one; the rest "
    "are grey). kNN density [L]: 1 / mean cosine distance to the 10 nearest. Below each map: the mean of the "
    "same value in each cell of a 60 × 60 grid over the map [L]."
)
# lists: ask for every missing map and neighbour table at once
if all([common.ensure_map(r, space) for r in shown]) and all([common.ensure_table(r, space) for r in shown]):
    cols = st.columns(len(shown))
    for col, r in zip(cols, shown, strict=True):
        with col:
            lay = common.computed(f"the {layer} layer of {r.id}",
                           lambda p, r=r: analysis.run_map_layer(r, space, layer, tau, progress=p))  # fmt: skip
            if lay is None:
                continue
            fig, heat = layer_figures(root, r.id, space, layer, tau if layer == "rld" else 0.0)
            st.plotly_chart(fig, key=f"dens-map-{r.id}", theme=None, config=common.plotly_config())
            st.plotly_chart(heat, key=f"dens-heat-{r.id}", theme=None)

# ---------------------------------------------------------------- purity vs p
st.markdown("#### Class purity of neighbourhoods [P]")
st.caption(
    "Share of each training image's p nearest neighbours (cosine) that share its class, for "
    f"p = {', '.join(map(str, analysis.PURITY_PS))}. The paper's contrastive ViT: "
    ".873 → .527 (locally pure, globally mixed); its supervised ViT ≈ .99 at every p. "
    "Raw pixels (PCA-64) are the baseline. For p close to a class's size, even perfect features lose purity."
)
curves = {
    r.id: common.computed(f"purity of {r.id}", lambda p, r=r: analysis.run_purity_curve(r, space))
    for r in shown
}
pixels = common.computed("the pixel baseline", lambda p: analysis.pixel_baseline_of(run))
if pixels is not None:
    curves["pixels"] = common.computed("purity of pixels", lambda p: analysis.run_purity_curve(pixels))
left, right = st.columns(2)
fig = go.Figure()
for i, (rid, c) in enumerate(curves.items()):
    if c is None:
        continue
    name = analysis.representation_name(pixels if rid == "pixels" else by_id[rid])
    style = dict(color="#888888", dash="dot") if rid == "pixels" else dict(color=common.PALETTE[i])
    fig.add_trace(go.Scatter(x=c.ps, y=c.overall, mode="lines+markers", name=name, line=style))
fig.add_trace(go.Scatter(x=list(PAPER_PURITY_VIT), y=list(PAPER_PURITY_VIT.values()), mode="markers",
                         name="paper, contrastive ViT", marker=dict(symbol="x", color="black")))  # fmt: skip
fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), title="Purity vs neighbourhood size p",
                  xaxis=dict(title="p (neighbours)", type="log", tickvals=analysis.PURITY_PS),
                  yaxis=dict(title="purity", range=[0, 1.02]))  # fmt: skip
left.plotly_chart(figures.chart(fig), key="dens_purity", theme=None)
with right:
    ready = {rid: c for rid, c in curves.items() if c is not None}
    if ready:
        ps = next(iter(ready.values())).ps.tolist()
        if len(ps) < len(analysis.PURITY_PS):
            st.warning(f"Purity is shown for p ≤ {ps[-1]} only: this run has fewer training images than the "
                       "larger neighbourhoods ask for (p + 1).", icon=":material/warning:")  # fmt: skip
        p_sel = st.select_slider("Per class at p", ps, value=10 if 10 in ps else ps[0], key="dens_p",
                                 disabled=len(ps) < 2)  # fmt: skip
        bars = go.Figure()
        for i, (rid, c) in enumerate(ready.items()):
            name = analysis.representation_name(pixels if rid == "pixels" else by_id[rid])
            bars.add_trace(go.Bar(x=[names[k] for k in c.classes], y=c.per_class[:, ps.index(p_sel)], name=name,
                                  marker_color="#aaaaaa" if rid == "pixels" else common.PALETTE[i]))  # fmt: skip
        bars.update_layout(height=290, margin=dict(l=10, r=10, t=10, b=10), barmode="group", xaxis_type="category",
                           yaxis=dict(title=f"purity@{p_sel}", range=[0, 1.02]))  # fmt: skip
        st.plotly_chart(figures.chart(bars), key="dens_purity_class", theme=None)

# ---------------------------------------------------------------- cross-class pairs in both runs
st.markdown("#### Cross-class pairs [P]")
st.caption(
    "The most similar pairs of training images with *different* labels in the first run, with the same "
    "pairs' cosine in the second. Paper: the top pair scores 0.998 under contrastive learning, −0.07 under "
    "supervised training (faiss top-50 per image here [L])."
)
if common.ensure_pairs(run, space) is not None:
    second = shown[1] if len(shown) > 1 else None
    pairs = common.computed("cross-class pairs", lambda p: analysis.run_cross_class_pairs(run, second, space))
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
        common.pairs_grid(common.run_images(root, run.id), pairs, names, run.labels, 12, cols=6,
                          other_cos=pairs.cosine_other, other_name=second.config.method if second else "")  # fmt: skip
