"""kNN-graph page: the neighbourhood graph of one image, random walks on it with SAG-VICReg's kernel,
the graph's statistics, and a sag-vicreg run's own training walks replayed over its map. Every number
comes from lab.papers.sag2025.graphview; the kNN table and the map are computed by the worker."""

import numpy as np
import streamlit as st

from lab.papers.sag2025 import graphview, jobs
from lab.papers.sag2025.constants import CITE, GRAPH_K, GRAPH_NODES, GRAPH_WALKS, WALK_K, WALK_T
from lab.papers.sag2025.figures import endpoint_figure, graph_figure, replay_figure
from lab.store.baselines import pixel_baseline_of
from lab.store.neighbours import stored_table
from lab.view.labels import run_label
from lab.view.thumbnails import thumbnail
from pages.ui import state
from pages.ui.charts import SPACE_LABELS, plotly_config
from pages.ui.images import image_grid
from pages.ui.progress import ensure_map, ensure_result, ensure_table, shown_error

state.require_app()  # a page opened by its URL right after the server started

st.title("kNN graph and random walks")
st.caption(
    f"After {CITE}. Each image is linked to its nearest neighbours (cosine, exact); SAG-VICReg walks such a "
    "graph within each training batch and takes where a walk ends as an extra positive. Here the graph is the "
    "k-hop neighbourhood of one image, and the walks use the paper's idea with the lab's kernel: k nearest, "
    "Gaussian weights with a median bandwidth, symmetrised, no self-loops **[P idea, L details]**. Walk "
    "precision uses the labels for display only."
)

run = state.current_run()
if run is None:
    st.info("The graph needs a trained model. Train one on the Train page.", icon=":material/info:")
    st.stop()

root, names = state.runs_root(), state.class_names(run.config.dataset)
c1, c2, c3 = st.columns([1.2, 1.35, 1])
rep_choice = c1.segmented_control("Representation", ["run", "pixels"], default="run", key="graph_rep",
                                  format_func=lambda r: run_label(run, score=False) if r == "run" else "pixels (PCA-64)") or "run"  # fmt: skip
pixels = rep_choice == "pixels"
space = "backbone" if pixels else (c2.segmented_control("Embedding space", ["backbone", "projector"], default="backbone",
                                                        key="graph_space", format_func=SPACE_LABELS.get) or "backbone")  # fmt: skip
layout = "force" if pixels else (c3.segmented_control("Layout", ["map", "force"], default="map", key="graph_layout",
                                                      format_func={"map": "map coordinates", "force": "force layout"}.get,
                                                      help="Nodes at the run's UMAP coordinates, or placed by a "
                                                           "force-directed layout of the drawn edges (networkx).") or "map")  # fmt: skip

if pixels:
    rep = pixel_baseline_of(run, compute=False)
    stored = stored_table(rep, "backbone") if rep is not None else None
    if (
        ensure_result(stored, jobs.TABLE, run, "kNN table of the pixels", "backbone", {"rep": "pixels"})
        is None
    ):
        st.stop()
    rep = pixel_baseline_of(run)
elif not ensure_table(run, space) or (layout == "map" and not ensure_map(run, space)):
    st.stop()
else:
    rep = run


@st.cache_data(show_spinner=False, max_entries=32)
def cached_neighbourhood(root: str, rid: str, rep_choice: str, space: str, row: int, k: int, nodes: int):
    r = state.load_run(root, rid)
    return graphview.neighbourhood(r if rep_choice == "run" else pixel_baseline_of(r), row, space, k, nodes)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_positions(
    root: str, rid: str, rep_choice: str, space: str, row: int, k: int, nodes: int, layout: str
):
    nb = cached_neighbourhood(root, rid, rep_choice, space, row, k, nodes)
    return graphview.positions(nb, layout, state.run_map(root, rid, space) if layout == "map" else None)


def pick_row() -> int:
    """The selected image: a click on the Map page or on this graph, or the number typed here."""
    default = state.selected_row(run)
    if default is None:
        default = int(np.flatnonzero(run.is_test)[0])
        state.set_point(run, default)
    row = st.number_input("Image (row of the run)", 0, len(run.labels) - 1, default, key=f"graph_row_{default}",
                          help="Click an image on the Map page, or a node of the graph below, to select it.")  # fmt: skip
    if row != default:
        state.set_point(run, row)
    return int(row)


def stats_panel(nb, walks) -> None:
    """The graph's statistics and the walks' numbers, one row of cards (lab.measures.graphs.GraphStats)."""
    s = nb.stats
    cols = st.columns(6)
    cols[0].metric("Nodes", f"{s.nodes}", f"{s.edges} edges", delta_color="off", delta_arrow="off")
    cols[1].metric(
        "Cross-class edges", f"{s.cross_class_share:.0%}", help="Share of drawn edges between two classes."
    )
    cols[2].metric("Components", f"{s.components}", f"largest {s.largest_component:.0%}", delta_color="off",
                   delta_arrow="off")  # fmt: skip
    cols[3].metric("Degree", f"{s.degree_mean:.1f} ± {s.degree_std:.1f}", f"{s.degree_min} to {s.degree_max}",
                   delta_color="off", delta_arrow="off")  # fmt: skip
    cols[4].metric(f"Return, t = {walks.t}", f"{walks.return_probability:.3f}", f"mean {walks.mean_return:.3f}",
                   delta_color="off", delta_arrow="off",
                   help=f"Return probability P^t[i, i] after t = {walks.t} steps: the walk mass that comes back to "
                        "the selected image. Below it, the mean over the graph's nodes.")  # fmt: skip
    cols[5].metric("Walk precision", f"{walks.precision:.0%}", f"chance {1 / len(names):.0%}", delta_color="off",
                   delta_arrow="off", help="Share of walks ending on the selected image's class (labels: display only).")  # fmt: skip


@st.fragment
def explore() -> None:
    """The graph, its walks and statistics; a slider or a click reruns only this part."""
    row = pick_row()
    g1, g2, w1, w2, w3, w4 = st.columns(6)
    k_graph = g1.slider("Edges per node", 2, 20, GRAPH_K, key="graph_k")
    nodes = g2.slider("Nodes", 50, 500, GRAPH_NODES, 50, key="graph_nodes")
    k = w1.slider("Walk kernel k", 1, 30, WALK_K, key="walk_k")
    t = w2.slider("Walk steps t", 1, 10, WALK_T, key="walk_t")
    bandwidth = w3.slider("Bandwidth × median", 0.25, 4.0, 1.0, 0.25, key="walk_bw")
    n_walks = w4.slider("Walks", 1, 50, GRAPH_WALKS, key="walk_n")
    if st.button("New walks", icon=":material/shuffle:", key="walk_new"):
        st.session_state["walk_seed"] = st.session_state.get("walk_seed", 0) + 1
    ids = (root, run.id, rep_choice, space, row, k_graph, nodes)
    nb = shown_error("the neighbourhood", lambda: cached_neighbourhood(*ids))
    if nb is None:
        return
    walks = shown_error("the walks", lambda: graphview.walks_from(rep, nb, space, min(k, len(nb.rows) - 1), t,
                                                                 bandwidth, n_walks, st.session_state.get("walk_seed", 0)))  # fmt: skip
    if walks is None:
        return
    pos = cached_positions(*ids, layout)
    stats_panel(nb, walks)
    title = f"{len(nb.rows)} images within reach of image {row} · {n_walks} walks of {t} steps"
    key = f"graph-{run.id}-{rep_choice}-{space}"
    event = st.plotly_chart(graph_figure(nb, pos, walks.paths, names, title), on_select="rerun",
                            selection_mode="points", key=key, theme=None, config=plotly_config())  # fmt: skip
    clicked = state.row_from_selection(event)
    if clicked is not None and clicked != row and st.session_state.get(f"_seen_{key}") != clicked:
        st.session_state[f"_seen_{key}"] = clicked
        state.set_point(run, clicked)
        st.rerun(scope="fragment")
    st.caption("Grey: same-class edges; red dotted: cross-class edges. Each walk is a coloured path, its steps "
               "numbered, its end marked ×. Click a node to walk from it.")  # fmt: skip
    images = state.run_images(root, run.id)
    a, b = st.columns([1, 2])
    with a:
        st.image(thumbnail(images[row], 5), caption=f"selected: {names[run.labels[row]]}")
        st.plotly_chart(endpoint_figure(walks.end_counts, names, int(run.labels[row]), "where the walks end"),
                        key="walk_ends", theme=None)  # fmt: skip
    with b:
        ends = nb.rows[walks.paths[:, -1]]
        image_grid([(thumbnail(images[e], 3), f"walk {i + 1}: {names[run.labels[e]]}") for i, e in enumerate(ends)],
                   8, "walk endpoints")  # fmt: skip


explore()

# ---------------------------------------------------------------- a sag-vicreg run's training walks
logged = graphview.training_walks(run)
if logged is not None and not pixels:
    st.subheader("The walks this run took in training")
    recorded = "" if logged.run_precision is None else f", {logged.run_precision:.0%} over the whole run"
    st.caption(f"The last training batch's walks (start, path, end: rows of the training images) on that batch's "
               f"graph of view-1 expander outputs, drawn over this run's map. Walk precision {logged.precision:.0%} "
               f"in this batch{recorded} (chance {1 / len(names):.0%}).")  # fmt: skip
    shown = st.slider(
        "Walks replayed", 1, min(50, len(logged.rows)), min(GRAPH_WALKS, len(logged.rows)), key="replay_n"
    )
    if ensure_map(run, space):
        fig = replay_figure(state.run_map(root, run.id, space), run.labels, logged.rows[:shown], names,
                            f"{shown} of the last batch's {len(logged.rows)} walks")  # fmt: skip
        st.plotly_chart(fig, key="replay", theme=None, config=plotly_config())
