"""Map page: the UMAP of a run, a clicked image with its nearest neighbours, cross-class pairs, exports."""

import streamlit as st

from lab.store import export
from lab.store.maps import map_fidelity
from lab.store.neighbours import neighbours_of, prepare_search
from lab.view.labels import run_label
from lab.view.thumbnails import thumbnail
from pages.ui import state
from pages.ui.axis import axis_sliders
from pages.ui.charts import SPACE_LABELS, map_figure, plotly_config, with_marks
from pages.ui.images import class_examples, describe_row, neighbour_grid, pairs_grid
from pages.ui.progress import ensure_map, ensure_pairs
from pages.ui.timeline import training_timeline

state.require_app()  # a page opened by its URL right after the server started

st.title("Map of the representation")
st.caption(
    "Each dot is one image (training and test), placed by UMAP so that images the model finds similar "
    "sit close together; colour is the true class. Click a dot to see the image and its nearest "
    "neighbours, measured in the model's embedding space (cosine similarity), not on this 2-D map."
)

run = state.current_run()
if run is None:
    default = state.default_train_config()
    with st.container(border=True):
        st.markdown("#### No runs yet")
        st.write(f"A map needs a trained model. The default is SimCLR on {default.dataset}.")
        if st.button("Train the default model", type="primary", icon=":material/play_arrow:"):
            st.session_state["my_job"] = st.session_state["first_run_job"] = (
                state.manager().submit_training(default).key
            )  # the Train page shows this run's progress at its top
            st.switch_page("pages/train.py")
    st.stop()

root, names = state.runs_root(), state.class_names(run.config.dataset)
st.markdown(f"**{run_label(run, score=False)}** · run `{run.id}` · {len(run.labels):,} images")
axis_sliders(run, "map")  # a sweep's runs: embedding size or strength as a slider
space = st.segmented_control("Embedding space", ["backbone", "projector"], default="backbone",
                             format_func=SPACE_LABELS.get, key="map_space",
                             help="Backbone features h are what probes use; projector embeddings z are where "
                                  "the loss is computed.") or "backbone"  # fmt: skip
if not ensure_map(run, space):
    state.run_images(root, run.id)  # meanwhile, so that the map's first click finds them loaded
    st.stop()


@st.fragment
def explore() -> None:
    """The map and the clicked image's neighbours; a click reruns only this part."""
    state.hold_background()  # background work waits while the map is explored
    key = f"map-{run.id}-{space}"
    state.take_click(run, key, st.session_state.get(key))  # this rerun's click, before the map is drawn
    row, k = state.selected_row(run), st.session_state.get("map_k", 16)
    nb = neighbours_of(run, row, k, space) if row is not None else None
    fig = (
        map_figure(root, run.id, space)
        if nb is None
        else with_marks(root, run.id, space, row, tuple(nb.rows.tolist()))
    )
    left, right = st.columns([3, 2], gap="medium")
    with left:
        event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=key, theme=None,
                                config=plotly_config(scrollZoom=True))  # fmt: skip
        state.take_click(run, key, event)
        if fid := map_fidelity(run, space):
            st.caption(
                f"Map fidelity [L]: {fid['neighbours_kept']:.0%} of an image's {fid['k']} nearest neighbours in the "
                f"embedding are among its {fid['k']} nearest on this map ({fid['queries']:,} sampled images). Clusters "
                "on the map are real; exact neighbours are not, so the panel on the right measures them in the embedding."
            )
    with right:
        images = state.run_images(root, run.id)  # loaded before the first click, so a click only reads
        if row is None:
            prepare_search(run, space)  # so the first click does not build the search index
            st.info(
                "Click a dot on the map to see that image and its nearest neighbours.",
                icon=":material/touch_app:",
            )
            st.caption("The classes: one training image of each, framed in its colour on the map.")
            class_examples(run, images, names)  # also loads the browser's code for image grids
            return
        c1, c2 = st.columns([1, 2])
        c1.image(thumbnail(images[row], 5))
        c2.markdown(describe_row(run, row, names))
        st.select_slider("Neighbours shown", [8, 16, 24, 32, 48], value=16, key="map_k")
        c2.metric("Neighbours from another class", f"{nb.cross_class_share:.0%}",
                  help=f"Share of the {k} nearest neighbours whose class differs from this image's.")  # fmt: skip
        st.caption(f"The {k} nearest neighbours in the {space} space, most similar first, cosine under each. "
                   "A red frame and ✗ mark a neighbour from another class, with its class. On the map, the "
                   "selected image has a black ring and its neighbours small grey ones.")  # fmt: skip
        neighbour_grid(run, images, nb, names, cols=6)


explore()
training_timeline(root, run)

st.subheader("Cross-class pairs")
st.caption(
    "The most similar pairs of training images whose classes differ, in this run's space (faiss top-50 "
    "neighbours per image, ranked over all; Zhang, Lu & Xuan 2023 [P]). Contrastive models tend to put "
    "look-alikes from different classes side by side; a supervised model pushes them apart."
)
pairs = ensure_pairs(run, space)
if pairs is not None:
    n_pairs = st.select_slider("Pairs shown", [8, 16, 32, 64, 100], value=16, key="map_pairs")
    pairs_grid(state.run_images(root, run.id), pairs, names, run.labels, n_pairs)

st.subheader("Download")
st.caption("Everything on this page, to take away. Rows are the run's images: training rows, then test rows.")
xy = state.run_map(root, run.id, space)
fig = map_figure(root, run.id, space)
with st.container(horizontal=True):
    st.download_button("Embeddings (.npy)", lambda: export.npy_bytes(run.features(space)),
                       f"{run.id}-{space}.npy", "application/octet-stream", on_click="ignore")  # fmt: skip
    st.download_button("Embeddings, labels and map (.csv)", lambda: export.embeddings_csv(run, space, xy),
                       f"{run.id}-{space}.csv", "text/csv", on_click="ignore")  # fmt: skip
    st.download_button("TensorBoard Projector (.zip)", lambda: export.projector_zip(run, space),
                       f"{run.id}-{space}-projector.zip", "application/zip", on_click="ignore",
                       help="tensors.tsv and metadata.tsv (class, label, split, row) with a projector_config.pbtxt: "
                            "load them in TensorBoard's Embedding Projector or at projector.tensorflow.org.")  # fmt: skip
    st.download_button("Metrics and config (.json)", export.metrics_json(run), f"{run.id}-metrics.json",
                       "application/json", on_click="ignore")  # fmt: skip
    st.download_button("Map (interactive .html)", lambda: export.figure_html(fig),
                       f"{run.id}-{space}-map.html", "text/html", on_click="ignore")  # fmt: skip
    if export.png_available():
        st.download_button("Map (.png)", lambda: export.figure_png(fig), f"{run.id}-{space}-map.png",
                           "image/png", on_click="ignore")  # fmt: skip
    if pairs is not None:
        st.download_button("Cross-class pairs (.csv)", export.pairs_csv(pairs, run.labels, names),
                           f"{run.id}-{space}-pairs.csv", "text/csv", on_click="ignore")  # fmt: skip
if not export.png_available():
    st.caption(export.PNG_UNAVAILABLE)
