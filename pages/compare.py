"""Compare page: two runs on the same images side by side, the selected image starred in both, and
their training movies on one axis of training progress."""

import numpy as np
import streamlit as st

from lab.papers.zhang2023.constants import PAPER_TOP_PAIR_CONTRASTIVE, PAPER_TOP_PAIR_SUPERVISED
from lab.store import export
from lab.store.neighbours import neighbours_of, other_run_cosines, same_images
from lab.view.labels import run_label
from lab.view.thumbnails import thumbnail
from pages.ui import state
from pages.ui.cards import acc
from pages.ui.charts import plotly_config, shared, shared_with_highlight
from pages.ui.images import describe_row, neighbour_grid, pairs_grid
from pages.ui.progress import ensure_map, ensure_pairs
from pages.ui.timeline import paired_timelines

state.require_app()  # a page opened by its URL right after the server started

st.title("Compare two runs")
st.caption(
    "Two models of one dataset side by side (for example supervised and SimCLR). Click an image in either "
    "map: it is starred in both, and its nearest neighbours are shown in each model's space. Runs trained on "
    "different subsets are compared on the images both embedded: the test split, and the training images "
    "of both subsets."
)

runs = state.list_runs()
current = state.current_run()
if current is None or len(runs) < 2:
    st.info("Comparing needs two stored runs on the same data. Train a second model on the Train page — "
            "for example `supervised` beside the default `simclr`.", icon=":material/info:")  # fmt: skip
    st.stop()

by_id = {r.id: r for r in runs}
c1, c2, c3 = st.columns([5, 5, 3])
ids = list(by_id)
left_id = c1.selectbox("Left run", ids, index=ids.index(current.id) if current.id in ids else 0,
                       format_func=lambda i: run_label(by_id[i], among=runs), key="cmp_left")  # fmt: skip
run_a = state.load_run(state.runs_root(), left_id)
partners = [r.id for r in runs if r.id != left_id and r.config.dataset == run_a.config.dataset]
if not partners:
    st.info(f"No other stored run is of the left run's dataset ({run_a.config.dataset}). Train one on the Train "
            "page.", icon=":material/info:")  # fmt: skip
    st.stop()
right_id = c2.selectbox(
    "Right run", partners, format_func=lambda i: run_label(by_id[i], among=runs), key="cmp_right"
)
run_b = state.load_run(state.runs_root(), right_id)
space = (
    c3.segmented_control(
        "Space",
        ["backbone", "projector"],
        default="backbone",
        key="cmp_space",
        format_func={"backbone": "Backbone h", "projector": "Projector z"}.get,
    )
    or "backbone"
)

ready = [ensure_map(r, space) for r in (run_a, run_b)]
if not all(ready):
    st.stop()

root, names = state.runs_root(), state.class_names(run_a.config.dataset)
rows = shared(root, run_a.id, run_b.id)
if not same_images(run_a, run_b):
    st.info(f"These runs were trained on different images ({len(run_a.labels) - int(run_a.is_test.sum()):,} and "
            f"{len(run_b.labels) - int(run_b.is_test.sum()):,} training images). Shown: the {len(rows.a):,} images "
            f"both embedded — {len(rows.a) - rows.n_train:,} test images and {rows.n_train:,} training images.",
            icon=":material/join_inner:")  # fmt: skip


def short(run) -> str:
    return run_label(run, among=(run_a, run_b), score=False)


def shared_position(row: int | None) -> int | None:
    """The position of the left run's row in the shared list (None: not shared, or nothing selected)."""
    if row is None:
        return None
    pos = int(np.searchsorted(rows.a, row))
    return pos if pos < len(rows.a) and rows.a[pos] == row else None


@st.fragment
def side_by_side() -> None:
    state.hold_background()  # background work waits while the maps are explored
    pos = shared_position(state.selected_row(run_a))
    cols = st.columns(2, gap="medium")
    for col, run, side in zip(cols, (run_a, run_b), "ab", strict=True):
        with col:
            m, px = run.metrics, run.metrics.get("pixels", {})
            st.markdown(f"**{short(run)}** · kNN {acc(m, 'knn_acc')} · linear {acc(m, 'linear_acc')} "
                        f"(pixels {px.get('knn_acc', float('nan')):.1%} · {px.get('linear_acc', float('nan')):.1%})")  # fmt: skip
            fig = shared_with_highlight(root, run_a.id, run_b.id, space, side, pos)
            key = f"cmp-{run_a.id}-{run_b.id}-{space}-{side}"
            event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=key, theme=None,
                                    config=plotly_config(scrollZoom=True))  # fmt: skip
            state.take_shared_click(run_a, rows.a, key, event)
            if shared_position(state.selected_row(run_a)) != pos:
                st.rerun(scope="fragment")  # redraw both maps with the new star
    if pos is None:
        st.info("Click a dot in either map.", icon=":material/touch_app:")
        return
    st.markdown("#### Selected image")
    a, b = st.columns([1, 5])
    a.image(thumbnail(state.run_images(root, run_a.id)[rows.a[pos]], 5))
    b.markdown(describe_row(run_a, int(rows.a[pos]), names))
    cols = st.columns(2, gap="medium")
    for col, run, row in zip(cols, (run_a, run_b), (rows.a[pos], rows.b[pos]), strict=True):
        with col:
            nb = neighbours_of(run, int(row), 12, space)
            st.markdown(f"**12 nearest in {short(run)}** — {nb.cross_class_share:.0%} from another class")
            neighbour_grid(run, state.run_images(root, run.id), nb, names, cols=6)


side_by_side()
paired_timelines(root, (run_a, run_b), (short(run_a), short(run_b)))

st.subheader("Cross-class pairs, in both runs")
st.caption(
    f"The most similar pairs of training images from different classes in the left run "
    f"({short(run_a)}), with the same pairs' cosine in the right run ({short(run_b)}). In the paper, "
    f"the top pair scores {PAPER_TOP_PAIR_CONTRASTIVE} under contrastive learning and {PAPER_TOP_PAIR_SUPERVISED} under "
    "supervised training."
)
pairs = ensure_pairs(run_a, space)
if pairs is not None:
    other = other_run_cosines(run_b.features(space), rows, pairs.i, pairs.j)
    if np.isnan(other).any():
        st.caption(f"— : {int(np.isnan(other).sum())} of these pairs include a training image the right run was not "
                   "trained on.")  # fmt: skip
    pairs_grid(state.run_images(root, run_a.id), pairs, names, run_a.labels, 16,
               other_cos=other, other_name=run_b.config.method)  # fmt: skip
    st.download_button("Pairs with both cosines (.csv)", export.pairs_csv(pairs, run_a.labels, names, other),
                       f"{run_a.id}-vs-{run_b.id}-pairs.csv", "text/csv", on_click="ignore")  # fmt: skip
