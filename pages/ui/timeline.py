"""The training timeline on the Map page: the movie of a run's snapshots (lab.store.timeline) with a step
slider and a Play button, the loss curve and the measures over training beside it, the current step
marked on both, and downloads of the movie (GIF) and the measures (CSV). Figures come from lab.view."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab.store.neighbours import neighbours_of
from lab.store.timeline import has_snapshots, progress_points, stored_timeline, timeline_csv
from lab.view import timeline as view
from pages.ui.progress import ensure_result
from pages.ui.state import class_names, load_run, selected_row

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
    _advance(steps, "tl_step", "tl_playing")
    sets = run.label_sets()
    controls = st.columns([1, 5, 2], vertical_alignment="bottom")
    with controls[0]:
        _play_button(steps, "tl_step", "tl_playing", "tl_play")
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


def _advance(values: list, key: str, playing_key: str) -> None:
    """The slider's value (session_state[key]) kept among `values`, and moved to the next one on each of
    the fragment's timed reruns while playing; at the last, playing stops and the page reruns (so the
    fragment's timer goes)."""
    if st.session_state.get(key) not in values:
        st.session_state[key] = values[-1]
    if st.session_state.get(playing_key):
        i = values.index(st.session_state[key]) + 1
        if i >= len(values):
            st.session_state[playing_key] = False
            st.rerun()
        st.session_state[key] = values[i]


def _play_button(values: list, key: str, playing_key: str, button_key: str) -> None:
    """Play / Pause; Play at the last value starts from the first. Reruns the whole page: the fragment's
    timer starts or stops."""
    playing = bool(st.session_state.get(playing_key))
    if st.button("Pause" if playing else "Play", key=button_key,
                 icon=":material/pause:" if playing else ":material/play_arrow:"):  # fmt: skip
        if not playing and st.session_state[key] == values[-1]:
            st.session_state[key] = values[0]  # play from the start
        st.session_state[playing_key] = not playing
        st.rerun()


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
    playing = bool(st.session_state.get("cmp_tl_playing"))
    st.fragment(_pair_player, run_every=PLAY_EVERY_S if playing else None)(
        root, runs[0].id, runs[1].id, names
    )


def _pair_player(root: str, id_a: str, id_b: str, names: tuple[str, str]) -> None:
    """The shared slider and Play, each run's frame at that share of training, and the measures of both."""
    runs = [load_run(root, id_a), load_run(root, id_b)]
    tls = [stored_timeline(r) for r in runs]
    points = progress_points(*tls)
    _advance(points, "cmp_tl_at", "cmp_tl_playing")
    controls = st.columns([1, 7], vertical_alignment="bottom")
    with controls[0]:
        _play_button(points, "cmp_tl_at", "cmp_tl_playing", "cmp_tl_play")
    at = controls[1].select_slider("Training progress", points, key="cmp_tl_at",
                                   format_func=lambda f: f"{f:.1%} of training")  # fmt: skip
    classes = class_names(runs[0].config.dataset)
    for col, run, tl, name, side in zip(st.columns(2, gap="medium"), runs, tls, names, "ab", strict=True):
        i = tl.frame_at(at)
        epoch = tl.fractions[i] * run.config.epochs
        col.markdown(f"**{name}** · snapshot {i + 1} of {len(tl.steps)} · step {tl.steps[i]:,} of "
                     f"{tl.steps[-1]:,} · epoch {epoch:.3g} of {run.config.epochs:g}")  # fmt: skip
        labels = np.asarray(run.labels)[tl.rows]
        col.plotly_chart(_frame(root, run.id, i, "class", classes, labels, None, ()), theme=None,
                         key=f"cmp_tl_frame_{side}", config={"displaylogo": False})  # fmt: skip
    same_images = np.array_equal(tls[0].rows, tls[1].rows)
    series = [(name, tl.fractions, tl.measures) for name, tl in zip(names, tls, strict=True)]
    st.plotly_chart(view.paired_measures_figure(series, tls[0].pixels if same_images else None, at), theme=None,
                    key="cmp_tl_measures", config={"displaylogo": False})  # fmt: skip
    st.caption(
        "The red line is the point of training shown above. "
        + (
            "The dashed line is the raw pixels on the same probe set."
            if same_images
            else "The runs' probe sets differ (different subsets), so no pixel reference is drawn."
        )
    )


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
