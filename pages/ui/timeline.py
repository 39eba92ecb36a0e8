"""The training timeline on the Map page: the movie of a run's snapshots (lab.store.timeline) with a step
slider and a Play button, the loss curve and the measures over training beside it, the current step
marked on both, and downloads of the movie (GIF) and the measures (CSV). Figures come from lab.view."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab.store.neighbours import neighbours_of
from lab.store.timeline import has_snapshots, stored_timeline, timeline_csv
from lab.view import timeline as view
from pages.ui.progress import ensure_result
from pages.ui.state import load_run, selected_row

PLAY_EVERY_S = 0.8  # seconds per frame while playing
NO_SNAPSHOTS = (
    "This run was trained without snapshots, so it has no training timeline. To record one, train with "
    "**Snapshots during training** set on the Train page (8 is plenty), or from the command line: "
    "`python -m lab train --snapshots 8` (with the run's other settings). Snapshots embed a fixed probe set "
    "of about 5,000 images at evenly spaced steps and add about 5 % to the training time."
)


def training_timeline(root: str, run) -> None:
    """The section: the movie when the run has snapshots and its timeline is stored; its progress while
    the worker computes it; how to record snapshots otherwise."""
    st.subheader("Training timeline")
    if not has_snapshots(run):
        st.info(NO_SNAPSHOTS, icon=":material/movie:")
        return
    st.caption(
        "The probe set's backbone features at each snapshot, laid out by UMAP starting from the previous "
        "frame's layout, so a point moves only as far as the model moved it. Beside it, the measures on each "
        "snapshot: RLD (τ = 0.2) and the Calinski-Harabasz score (density), kNN purity at p = 10 and 100, "
        "kNN accuracy (fit on the probe set's training rows, scored on its test rows) and, where the dataset "
        "has fine labels, the subclass probe; the dashed line is the raw pixels on the same images."
    )
    tl = ensure_result(stored_timeline(run), "timeline", run, "training timeline")
    if tl is None:
        return
    playing = bool(st.session_state.get("tl_playing"))
    st.fragment(_player, run_every=PLAY_EVERY_S if playing else None)(root, run.id)


def _player(root: str, rid: str) -> None:
    """Slider, Play, the frame and the curves; reruns alone, every PLAY_EVERY_S seconds while playing."""
    run = load_run(root, rid)
    tl = stored_timeline(run)
    steps = tl.steps
    if st.session_state.get("tl_step") not in steps:
        st.session_state["tl_step"] = steps[-1]
    if st.session_state.get("tl_playing"):
        i = steps.index(st.session_state["tl_step"]) + 1
        if i >= len(steps):  # the end: stop, and rerun the page so the timer goes
            st.session_state["tl_playing"] = False
            st.rerun()
        st.session_state["tl_step"] = steps[i]
    sets = run.label_sets()
    controls = st.columns([1, 5, 2], vertical_alignment="bottom")
    playing = bool(st.session_state.get("tl_playing"))
    if controls[0].button("Pause" if playing else "Play", key="tl_play",
                          icon=":material/pause:" if playing else ":material/play_arrow:"):  # fmt: skip
        if not playing and st.session_state["tl_step"] == steps[-1]:
            st.session_state["tl_step"] = steps[0]  # play from the start
        st.session_state["tl_playing"] = not playing
        st.rerun()  # the whole page: the fragment's timer starts or stops
    step = controls[1].select_slider("Step", steps, key="tl_step", format_func=lambda s: f"step {s:,}")
    label_set = controls[2].selectbox("Colour by", list(sets), key="tl_labels") if len(sets) > 1 else "class"
    i = steps.index(step)
    all_labels, names = sets[label_set]
    labels = all_labels[tl.rows]
    names = names or tuple(str(c) for c in range(int(all_labels.max()) + 1))
    selected, neighbours = _marks(run, tl)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        st.plotly_chart(_frame(root, rid, i, label_set, names, labels, selected, neighbours), theme=None,
                        key="tl_frame", config={"displaylogo": False})  # fmt: skip
        if selected is None and st.session_state.get("point"):
            st.caption(
                "The selected image is not in the probe set of the snapshots, so it is not marked here."
            )
        elif selected is not None:
            st.caption("The black star is the image selected on the map; rings are its nearest neighbours in the "
                       "probe set (measured in the finished run's embedding).")  # fmt: skip
    with right:
        st.plotly_chart(view.loss_figure(run.losses, steps, step), theme=None, key="tl_loss",
                        config={"displaylogo": False})  # fmt: skip
        st.plotly_chart(view.measures_figure(steps, tl.measures, tl.pixels, step), theme=None, key="tl_measures",
                        config={"displaylogo": False})  # fmt: skip
    with st.container(horizontal=True):
        st.download_button("Movie (.gif)", lambda: view.movie_gif(view.frames_xy(tl.frames), steps, labels, selected),
                           f"{rid}-timeline.gif", "image/gif", on_click="ignore", key="tl_gif")  # fmt: skip
        st.download_button("Measures over training (.csv)", timeline_csv(tl), f"{rid}-timeline.csv", "text/csv",
                           on_click="ignore", key="tl_csv")  # fmt: skip


def _marks(run, tl):
    """The map's selected image and its neighbours as indices into the probe set (None and () when
    the selected image is not in it)."""
    row = selected_row(run)
    if row is None or row not in set(tl.rows.tolist()):
        return None, ()
    where = {int(r): n for n, r in enumerate(tl.rows.tolist())}
    try:
        nb = neighbours_of(run, row, 16).rows
    except ValueError:
        nb = np.zeros(0, int)
    return where[row], tuple(where[int(r)] for r in nb if int(r) in where)


@st.cache_resource(show_spinner=False, max_entries=64)
def _frame(root: str, rid: str, i: int, label_set: str, names, _labels, selected, neighbours):
    """One frame's figure, built once per frame, label set and marks (a slider move only reads it)."""
    tl = stored_timeline(load_run(root, rid))
    return view.frame_figure(view.frames_xy(tl.frames), i, tl.steps, _labels, names, selected, neighbours)
