"""The training timeline on the Map page: the movie of a run's snapshots (lab.store.timeline) as one chart
whose step slider and Play button run in the browser, the loss curve and the measures over training
beside it with the current step marked, and downloads of the movie (GIF) and the measures (CSV); two
runs' movies side by side on the Compare page; live frames on the Train page. Figures come from
lab.view."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab.store.neighbours import neighbours_of
from lab.store.timeline import has_snapshots, progress_points, stored_timeline, timeline_csv
from lab.view import timeline as view
from pages.ui.progress import ensure_result
from pages.ui.state import class_names, load_run, selected_row

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
    st.fragment(_player)(root, run.id)


def _player(root: str, rid: str) -> None:
    """The movie (its slider and Play run in the browser), colour by a label set; the downloads. Reruns
    alone when the label set changes."""
    run = load_run(root, rid)
    tl = stored_timeline(run)
    sets = run.label_sets()
    label_set = (
        st.selectbox("Colour by", list(sets), key="tl_labels", width=260) if len(sets) > 1 else "class"
    )
    all_labels, names = sets[label_set]
    labels = all_labels[tl.rows]
    names = names or tuple(str(c) for c in range(int(all_labels.max()) + 1))
    selected, neighbours = _marks(run, tl)
    st.plotly_chart(_movie(root, rid, label_set, tuple(names), labels, selected, neighbours), theme=None,
                    key="tl_movie", config={"displaylogo": False})  # fmt: skip
    st.caption(
        "Drag the slider under the charts, or press Play: the frames are all in the chart, so they change at "
        "once. The red line marks the snapshot shown on the loss and on each measure."
        + (
            " The black star is the image selected on the map; rings are its nearest neighbours in the probe set "
            "(measured in the finished run's embedding)."
            if selected is not None
            else " The selected image is not in the probe set of the snapshots, so it is not marked here."
            if st.session_state.get("point")
            else ""
        )
    )
    with st.container(horizontal=True):
        st.download_button("Movie (.gif)", lambda: view.movie_gif(view.frames_xy(tl.frames), tl.steps, labels, selected),
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


@st.cache_resource(show_spinner=False, max_entries=16)
def _movie(root: str, rid: str, label_set: str, names, _labels, selected, neighbours):
    """The run's movie figure, built once per label set and marks."""
    run = load_run(root, rid)
    return view.timeline_movie(stored_timeline(run), run.losses, _labels, names, selected, neighbours)


# ---- two runs' movies on one axis (the Compare page) ------------------------------------------
def paired_timelines(root: str, runs, names: tuple[str, str]) -> None:
    """Two runs' training movies side by side, driven by one slider over the share of training done,
    with both runs' measures in one chart; how to record snapshots for a run without them; the
    timelines' progress while the worker computes them."""
    st.subheader("Training movies, side by side")
    missing = [name for run, name in zip(runs, names, strict=True) if not has_snapshots(run)]
    if missing:
        st.info(
            f"{' and '.join(missing)} {'was' if len(missing) == 1 else 'were'} trained without snapshots, so "
            "there is no movie to compare. Train the config again with **Snapshots during training** set on the "
            "Train page (8 is plenty; the other settings as they were), or from the command line with "
            "`python -m lab train --snapshots 8` and the run's other settings. The stored run stays; the run "
            "with snapshots is a new one.",
            icon=":material/movie:",
        )
        return
    st.caption(
        "Each run's probe set at the same point of its training, laid out as on the Map page. The runs are "
        "aligned by **fraction of training** (a snapshot's step over the run's last step), so runs with "
        "different numbers of steps or epochs meet at the same share of their training; each side shows its "
        "last snapshot at or before that point. Below, both runs' measures over training on that axis."
    )
    tls = [ensure_result(stored_timeline(r), "timeline", r, f"training timeline of {n}") for r, n in zip(runs, names, strict=True)]  # fmt: skip
    if any(tl is None for tl in tls):
        return
    st.plotly_chart(_paired(root, runs[0].id, runs[1].id, names), theme=None, key="cmp_tl_movie",
                    config={"displaylogo": False})  # fmt: skip
    same_images = np.array_equal(tls[0].rows, tls[1].rows)
    st.caption(
        "Drag the slider under the charts, or press Play. The red line marks the point of training shown above. "
        + (
            "The dashed line is the raw pixels on the same probe set."
            if same_images
            else "The runs' probe sets differ (different subsets), so no pixel reference is drawn."
        )
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def _paired(root: str, id_a: str, id_b: str, names: tuple[str, str]):
    """The two runs' movies side by side as one figure, on the share of training done."""
    runs = [load_run(root, id_a), load_run(root, id_b)]
    tls = [stored_timeline(r) for r in runs]
    classes = class_names(runs[0].config.dataset)
    return view.paired_movie(
        [(name, tl, run.config.epochs) for name, tl, run in zip(names, tls, runs, strict=True)],
        progress_points(*tls), bool(np.array_equal(tls[0].rows, tls[1].rows)),
        [np.asarray(run.labels)[tl.rows] for run, tl in zip(runs, tls, strict=True)], classes,
    )  # fmt: skip


# ---- live frames while a run trains (the Train page) ------------------------------------------
def live_frames(job) -> None:
    """The newest provisional frame of a training job with snapshots (lab.worker.kinds.live_frames), as a
    static image inside the Train page's 2-s poll; nothing for a run without snapshots."""
    if job.config is None or not job.config.snapshots:
        return
    frames = job.frames
    if not frames:
        st.caption(f"Live frames: {job.config.snapshots} snapshots are recorded during training; each one's "
                   "provisional layout appears here as it is taken.")  # fmt: skip
        return
    f = frames[-1]
    total = job.progress.total_steps if job.progress is not None else f.step
    left, right = st.columns([2, 3], vertical_alignment="center")
    left.image(view.live_frame_png(f.xy, f.labels, f"step {f.step:,} - provisional"), width=300)
    right.markdown(f"**Live frame, provisional** · snapshot {len(frames)} of {job.config.snapshots} · after step "
                   f"{f.step:,} of {total:,}")  # fmt: skip
    right.caption(
        f"A coarse layout, not the map: PCA of the backbone features of {len(f.xy):,} probe-set images at this "
        "snapshot, turned to match the frame before; colours are the classes. It shows whether the classes are "
        "pulling apart. When training ends, the aligned UMAP timeline replaces these frames (Map page, "
        "Training timeline)."
    )
