"""Compare page: two runs on the same images side by side, the selected image starred in both."""

import streamlit as st

from lab import export
from lab.neighbours import neighbours_of, pair_cosines, same_images, thumbnail
from pages import common

common.require_app()  # a page opened by its URL right after the server started

st.title("Compare two runs")
st.caption(
    "Two models trained on the same images, side by side (for example supervised and SimCLR). Click an "
    "image in either map: it is starred in both, and its nearest neighbours are shown in each model's space."
)

runs = common.list_runs()
current = common.current_run()
if current is None or len(runs) < 2:
    st.info("Comparing needs two stored runs on the same data. Train a second model on the Train page — "
            "for example `supervised` beside the default `simclr`.", icon=":material/info:")  # fmt: skip
    st.stop()

by_id = {r.id: r for r in runs}
c1, c2, c3 = st.columns([2, 2, 1])
ids = list(by_id)
left_id = c1.selectbox("Left run", ids, index=ids.index(current.id) if current.id in ids else 0,
                       format_func=lambda i: common.run_label(by_id[i]), key="cmp_left")  # fmt: skip
run_a = common.load_run(common.runs_root(), left_id)
partners = [r.id for r in runs if r.id != left_id and same_images(run_a, r)]
if not partners:
    st.info(f"No other stored run uses the same images as the left run ({run_a.config.dataset}, "
            f"subset {run_a.config.subset or 'all'}). Train one with the same dataset and subset.")  # fmt: skip
    st.stop()
right_id = c2.selectbox(
    "Right run", partners, format_func=lambda i: common.run_label(by_id[i]), key="cmp_right"
)
run_b = common.load_run(common.runs_root(), right_id)
space = (
    c3.segmented_control("Space", ["backbone", "projector"], default="backbone", key="cmp_space")
    or "backbone"
)

ready = [common.ensure_map(r, space) for r in (run_a, run_b)]
if not all(ready):
    st.stop()

root, names = common.runs_root(), common.class_names(run_a.config.dataset)


def short(run) -> str:
    return f"{run.config.method} (p={run.config.embedding_size})"


@st.fragment
def side_by_side() -> None:
    common.hold_background()  # background work waits while the maps are explored
    row = common.selected_row(run_a)
    cols = st.columns(2, gap="medium")
    for col, run in zip(cols, (run_a, run_b), strict=True):
        with col:
            m, px = run.metrics, run.metrics.get("pixels", {})
            st.markdown(f"**{short(run)}** · kNN {common.acc(m, 'knn_acc')} · linear {common.acc(m, 'linear_acc')} "
                        f"(pixels {px.get('knn_acc', float('nan')):.1%} · {px.get('linear_acc', float('nan')):.1%})")  # fmt: skip
            fig = common.with_highlight(root, run.id, space, row)
            key = f"cmp-{run.id}-{space}"
            event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=key, theme=None,
                                    config=common.plotly_config(scrollZoom=True))  # fmt: skip
            before = common.selected_row(run_a)
            common.take_click(run, key, event)
            if common.selected_row(run_a) != before:
                st.rerun(scope="fragment")  # redraw both maps with the new star
    if row is None:
        st.info("Click a dot in either map.", icon=":material/touch_app:")
        return
    images = common.run_images(root, run_a.id)
    st.markdown("#### Selected image")
    a, b = st.columns([1, 5])
    a.image(thumbnail(images[row], 5))
    b.markdown(common.describe_row(run_a, row, names))
    cols = st.columns(2, gap="medium")
    for col, run in zip(cols, (run_a, run_b), strict=True):
        with col:
            nb = neighbours_of(run, row, 12, space)
            st.markdown(f"**12 nearest in {short(run)}** — {nb.cross_class_share:.0%} from another class")
            common.neighbour_grid(run, images, nb, names, cols=6)


side_by_side()

st.subheader("Cross-class pairs, in both runs")
st.caption(
    f"The most similar pairs of training images from different classes in the left run "
    f"({short(run_a)}), with the same pairs' cosine in the right run ({short(run_b)}). In the paper, "
    "the top pair scores 0.998 under contrastive learning and −0.07 under supervised training."
)
pairs = common.ensure_pairs(run_a, space)
if pairs is not None:
    other = pair_cosines(run_b.features(space), pairs.i, pairs.j)
    common.pairs_grid(common.run_images(root, run_a.id), pairs, names, run_a.labels, 16,
                      other_cos=other, other_name=run_b.config.method)  # fmt: skip
    st.download_button("Pairs with both cosines (.csv)", export.pairs_csv(pairs, run_a.labels, names, other),
                       f"{run_a.id}-vs-{run_b.id}-pairs.csv", "text/csv", on_click="ignore")  # fmt: skip
