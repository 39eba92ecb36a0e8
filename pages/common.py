"""Pieces the pages share: cached loaders keyed by run id, the sidebar, the selected run and
point, metric cards beside the pixel baseline, the map figure and image grids.
UI only: every number on screen comes from a `lab` function."""

from __future__ import annotations

import base64
import html
import io
import os
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from PIL import Image

from lab import data as lab_data
from lab import figures, jobs, maps, neighbours
from lab.jobs import default_config, get_manager
from lab.runs import Run, RunStore
from lab.train import pick_device

PALETTE = figures.PALETTE
# Reports the browser's device pixel ratio; the sidebar mounts it until it has, once per session
# (mounted again on another page, it would report again and rerun that page). WebGL charts are drawn
# at that ratio (`plotly_config`).
SCREEN = st.components.v2.component(
    "lab_screen",
    js="export default function ({ setStateValue }) { setStateValue('dpr', window.devicePixelRatio || 1); }",
)
SPACE_LABELS = {"backbone": "Backbone features h", "projector": "Projector embeddings z"}


def require_app() -> None:
    """Run this page through app.py. Until a session of this server has run app.py (which calls
    st.navigation), Streamlit 1.67 treats the pages/ folder as a v1 multipage app and runs a page
    opened by its own URL (a refresh on /map, a tab reconnecting after a restart) without app.py:
    no sidebar, no runs, `common` listed as a page. Each page calls this first: it ends that mode and
    reruns, so that app.py runs and shows the page the URL names."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# ---------------------------------------------------------------- cached loaders
def runs_root() -> str:
    return str(RunStore().root)  # $LAB_RUNS_DIR or ./runs, read at call time


def manager():
    return get_manager(runs_root())


@st.cache_resource(show_spinner="Looking for datasets...")
def datasets() -> dict[str, str]:
    """Dataset name -> where it comes from, or 'unavailable: ...'."""
    return lab_data.available_datasets()


def available_datasets() -> list[str]:
    return [name for name, src in datasets().items() if not src.startswith("unavailable")]


def default_dataset() -> str:
    return "fashion-mnist" if "fashion-mnist" in available_datasets() else "digits"


def _metrics_stamp(root: str, rid: str) -> int:
    """Changes when a run's metrics.json is rewritten (its deferred scores arrive)."""
    try:
        return os.stat(os.path.join(root, rid, "metrics.json")).st_mtime_ns
    except OSError:
        return 0


def list_runs() -> list[Run]:
    root = runs_root()
    names = sorted(os.listdir(root)) if os.path.isdir(root) else []
    return _list_runs(root, tuple((n, _metrics_stamp(root, n)) for n in names))


@st.cache_resource(show_spinner=False, max_entries=4)
def _list_runs(root: str, stamp: tuple) -> list[Run]:
    return RunStore(root).list()


def load_run(root: str, rid: str) -> Run:
    return _load_run(root, rid, _metrics_stamp(root, rid))


@st.cache_resource(show_spinner=False, max_entries=16)
def _load_run(root: str, rid: str, stamp: int) -> Run:
    return RunStore(root).load(rid)


def acc(metrics: dict, key: str) -> str:
    """An accuracy as a percentage, or 'scoring...' while it is computed after the map."""
    value = metrics.get(key)
    return f"{value:.1%}" if value is not None else "scoring..."


@st.cache_resource(show_spinner="Loading the images...", max_entries=4)
def run_images(root: str, rid: str) -> np.ndarray:
    """uint8 [N, C, H, W], the run's rows."""
    return load_run(root, rid).images().numpy()


@st.cache_resource(show_spinner=False)
def class_names(dataset: str) -> tuple[str, ...]:
    return lab_data.load_dataset(dataset).classes


@st.cache_resource(show_spinner=False, max_entries=8)
def run_map(root: str, rid: str, space: str) -> np.ndarray:
    """The stored map [N, 2]; call only when maps.stored_map says it exists."""
    xy = maps.stored_map(load_run(root, rid), space)
    if xy is None:
        raise FileNotFoundError(f"The {space} map of run {rid} has not been computed yet.")
    return xy


# ---------------------------------------------------------------- selected run and point
def current_run() -> Run | None:
    rid = st.session_state.get("run_picker")
    if rid is None:
        return None
    try:
        return load_run(runs_root(), rid)
    except ValueError as exc:
        st.error(f"Run {rid} cannot be loaded: {exc}")
        return None


def select_run(rid: str) -> None:
    """Make `rid` the sidebar's run on the next rerun (a widget's value cannot change mid-run)."""
    st.session_state["_pending_run"] = rid


def data_key(run: Run) -> str:
    c = run.config
    return f"{c.dataset}/{c.subset}/{c.seed if c.subset else 0}"


def selected_row(run: Run) -> int | None:
    point = st.session_state.get("point")
    if point and point.get("data") == data_key(run) and 0 <= point["row"] < len(run.labels):
        return int(point["row"])
    return None


def set_point(run: Run, row: int) -> None:
    st.session_state["point"] = {"data": data_key(run), "row": int(row)}


def row_from_selection(event) -> int | None:
    """The clicked row from st.plotly_chart's selection (the row travels in customdata)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    if not points:
        return None
    cd = points[0].get("customdata")
    if isinstance(cd, dict):
        cd = cd.get("0", next(iter(cd.values()), None))
    if isinstance(cd, list | tuple):
        cd = cd[0] if cd else None
    return int(cd) if cd is not None else None


def hold_background() -> None:
    """Call where a map is drawn or clicked: the running background job (pairs, scores, a map of
    another run; never training) pauses for `lab.jobs.HOLD_S`, so that the clicks that follow have
    both cores (see `lab.jobs._Worker.hold`)."""
    manager().hold_background()


def take_click(run: Run, key: str, event) -> None:
    """Apply a map click once: a selection only counts when it differs from the last one seen,
    so that other ways of choosing a point are not overwritten on the next rerun."""
    row = row_from_selection(event)
    seen = f"_seen_{key}"
    if row is not None and st.session_state.get(seen) != row:
        set_point(run, row)
    st.session_state[seen] = row


# ---------------------------------------------------------------- sidebar
def device_line() -> str:
    dev = pick_device()
    if dev.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(0)}"
    if dev.type == "mps":
        return "MPS (Apple GPU)"
    return f"CPU · {torch.get_num_threads()} threads"


def run_label(run: Run) -> str:
    m, px = run.metrics, run.metrics.get("pixels", {})
    return (
        f"{run.config.method} · {run.config.dataset} · p={run.config.embedding_size} · "
        f"kNN {acc(m, 'knn_acc')} (pixels {px.get('knn_acc', float('nan')):.1%})"
    )


def short_run_label(run: Run) -> str:
    """The sidebar's label, short enough for its width: method, dataset, embedding size, kNN accuracy."""
    knn = run.metrics.get("knn_acc")
    dataset = run.config.dataset.replace("fashion-mnist", "fashion")
    return f"{run.config.method} · {dataset} · p={run.config.embedding_size} · " + (
        f"{knn:.1%}" if knn is not None else "scoring"
    )


def sidebar() -> None:
    with st.sidebar:
        st.markdown(f"**Device:** {device_line()}")
        runs = list_runs()
        if "_pending_run" in st.session_state:
            st.session_state["run_picker"] = st.session_state.pop("_pending_run")
        if runs:
            ids = [r.id for r in runs]
            if st.session_state.get("run_picker") not in ids:
                st.session_state["run_picker"] = ids[0]
            by_id = {r.id: r for r in runs}
            st.selectbox("Stored run", ids, key="run_picker", format_func=lambda i: short_run_label(by_id[i]),
                         help="Every trained config is stored on disk; pick one to explore. Each is named by "
                              "method, dataset, embedding size p and its kNN accuracy.")  # fmt: skip
            run = by_id[st.session_state["run_picker"]]
            if run.pending and manager().job(f"{run.id}/scores") is None:  # e.g. the app stopped mid-scoring
                manager().request_scores(run)
            m, px = run.metrics, run.metrics.get("pixels", {})
            st.caption(
                f"{run.title()}  \nkNN {acc(m, 'knn_acc')} · linear {acc(m, 'linear_acc')}  \n"
                f"pixels (PCA-64): kNN {px.get('knn_acc', float('nan')):.1%} · "
                f"linear {px.get('linear_acc', float('nan')):.1%}  \n"
                f"data: {run.info.get('data_source', '?')}"
            )
        else:
            st.caption("No runs stored yet: train one on the Train page.")
        with st.expander("Datasets"):
            for name, src in datasets().items():
                ok = not src.startswith("unavailable")
                st.markdown(f"{'✅' if ok else '⚪'} **{name}** — {src}")
        st.caption(f"Runs folder: `{runs_root()}`")


def screen_probe() -> None:
    """Mounts SCREEN at the end of the sidebar until the browser has reported its pixel ratio. Call
    it after the page has run: a report that arrives while a first run is still going interrupts it,
    and Streamlit (1.67) then showed the Train page's number inputs (seeded through session state
    then) at their minimum (0.10 epochs, batch 2) while the page computed with its own values; the
    browser test checks the form."""
    if "lab_dpr" not in st.session_state:
        with st.sidebar:
            SCREEN(key="lab_screen", on_dpr_change=_keep_dpr, height=0)


def _keep_dpr() -> None:
    st.session_state["lab_dpr"] = (st.session_state.get("lab_screen") or {}).get("dpr")


def plotly_config(**extra) -> dict:
    """st.plotly_chart's config for a WebGL chart: drawn at the screen's pixel ratio
    (`lab.figures.gl_pixel_ratio`), no plotly logo."""
    dpr = st.session_state.get("lab_dpr")
    return {"displaylogo": False, **extra, "plotGlPixelRatio": figures.gl_pixel_ratio(dpr)}


# ---------------------------------------------------------------- results beside the baseline
def metric_cards(run: Run) -> None:
    """kNN and linear accuracy of the run, each beside what raw pixels (PCA-64) reach."""
    m, px = run.metrics, run.metrics.get("pixels", {})
    pk, pl = px.get("knn_acc"), px.get("linear_acc")

    def delta(v, base):
        return None if base is None or v is None else f"{100 * (v - base):+.1f} pts vs pixels"

    c1, c2, c3, c4 = st.columns(4)
    c1.metric("kNN accuracy (k=20, h)", acc(m, "knn_acc"), delta(m.get("knn_acc"), pk), border=True)
    c2.metric("Linear probe (h)", acc(m, "linear_acc"), delta(m.get("linear_acc"), pl), border=True)
    c3.metric("kNN accuracy (k=20, z)", acc(m, "knn_acc_projector"), delta(m.get("knn_acc_projector"), pk),
              border=True)  # fmt: skip
    c4.metric("Pixels (PCA-64)", f"{pk:.1%}" if pk is not None else "—",
              f"linear {pl:.1%}" if pl is not None else None, delta_color="off", border=True)  # fmt: skip
    st.caption(
        f"Test-set accuracy of {m.get('n_test', '?'):,} images; h = backbone features, z = projector "
        f"embeddings. The raw-pixel baseline (PCA to 64 dimensions, same split) is what a model must beat "
        f"to have learned anything pixels do not already give. Trained in {m.get('train_seconds', '?')} s "
        f"at {m.get('images_per_s', 0):,.0f} images/s on {m.get('device', '?')}."
    )
    if run.pending:  # scored in the background after the map; resumed if the app stopped meanwhile
        job = manager().job(f"{run.id}/scores")
        if job is None or job.state != "failed":
            job = manager().request_scores(run)
        job_progress(job.key, poll=2.0)


# ---------------------------------------------------------------- loss curve
def loss_chart(losses, height: int = 220) -> None:
    """The training loss per step, drawn with plotly like every other figure of the lab (so the
    plotly library is already loaded in the browser when the user opens a map)."""
    fig = go.Figure(go.Scatter(y=np.asarray(losses, dtype=float), mode="lines", line=dict(width=1.5),
                               hovertemplate="step %{x}<br>loss %{y:.4f}<extra></extra>"))  # fmt: skip
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="step",
                      yaxis_title="training loss")  # fmt: skip
    st.plotly_chart(figures.chart(fig), config={"displaylogo": False, "displayModeBar": False}, theme=None)


def live_loss_svg(losses, total_steps: int, width: int = 960, height: int = 190) -> str:
    """The loss curve while training runs, as a small static SVG (x: step 0 to total_steps, so the
    curve grows as training advances). Redrawing a plotly chart every 2 s cost the browser 0.12 of a
    core instead of 0.08 and slowed training in the app by about 8 % on 2 cores (one-off A/B of the
    Train page in headless chromium, 4 runs each); an SVG image costs what no chart costs. The finished
    run gets the interactive plotly chart (`loss_chart`)."""
    y = np.asarray(losses, dtype=float)
    y = y[np.isfinite(y)]
    left, right, top, bottom = 52, 10, 10, 22
    w, h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" font-family="sans-serif" font-size="11" fill="#555">',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="white" stroke="#ddd"/>']  # fmt: skip
    total = max(int(total_steps), len(y), 1)
    if len(y):
        steps = np.arange(len(y))
        if len(y) > 800:  # a few hundred vertices draw the same line
            keep = np.unique(np.r_[np.linspace(0, len(y) - 1, 800).astype(int), len(y) - 1])
            steps, y = steps[keep], y[keep]
        lo, hi = float(y.min()), float(y.max())
        span = hi - lo if hi > lo else 1.0
        xs = left + steps / max(total - 1, 1) * w
        ys = top + (hi - y) / span * h
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
        parts += [f'<polyline fill="none" stroke="#636efa" stroke-width="1.5" points="{points}"/>',
                  f'<text x="{left - 6}" y="{top + 9}" text-anchor="end">{hi:.3f}</text>',
                  f'<text x="{left - 6}" y="{top + h}" text-anchor="end">{lo:.3f}</text>',
                  f'<text x="{left - 6}" y="{top + h / 2 + 4}" text-anchor="end">loss</text>']  # fmt: skip
    parts += [f'<text x="{left}" y="{height - 6}">step 0</text>',
              f'<text x="{left + w}" y="{height - 6}" text-anchor="end">step {total:,}</text>', "</svg>"]  # fmt: skip
    return "".join(parts)


# ---------------------------------------------------------------- map figure
@st.cache_resource(show_spinner="Drawing the map...", max_entries=8)
def map_figure(root: str, rid: str, space: str) -> go.Figure:
    """The run's map (`lab.figures.map_figure`), built once per (run, space) and never mutated.
    Show it with `theme=None`: the figure carries its style (see `lab.figures`)."""
    run = load_run(root, rid)
    xy = run_map(root, rid, space)
    title = f"UMAP of {SPACE_LABELS[space].lower()} · {len(xy):,} images"
    return figures.map_figure(xy, run.labels, class_names(run.config.dataset), title, f"{rid}-{space}")


@st.cache_resource(show_spinner=False, max_entries=16)
def with_highlight(root: str, rid: str, space: str, row: int | None) -> go.Figure:
    """The run's map with a star on `row` (about 10 ms for 70,000 points, once per row)."""
    fig = map_figure(root, rid, space)
    return fig if row is None else figures.with_highlight(fig, run_map(root, rid, space), row)


def ensure_map(run: Run, space: str) -> bool:
    """True when the map is stored. Otherwise queue it and show its progress (polling alone)."""
    if maps.stored_map(run, space) is not None:
        return True
    job_progress(manager().request_map(run, space).key)
    return False


def ensure_table(run: Run, space: str) -> bool:
    """True when the run's exact kNN table is stored. Otherwise queue it and show its progress."""
    if neighbours.stored_table(run, space) is not None:
        return True
    job_progress(manager().request_table(run, space).key)
    return False


def ensure_pairs(run: Run, space: str):
    """The run's cross-class pairs when stored; otherwise queue them, show progress, return None."""
    pairs = neighbours.stored_pairs(run, space)
    if pairs is None:
        job_progress(manager().request_pairs(run, space).key, poll=2.0)
    return pairs


def job_progress(key: str, poll: float = 0.5) -> None:
    """Status of a background job; reruns the page when it is done. `poll`: seconds between checks.
    Twice a second for what the user waits for (the map appears at most half a second after the
    worker stores it); every 2 s for what fills in while the user explores a map (pairs, scores):
    each check is a rerun that the browser renders, on the same cores as the map's clicks."""
    (_job_progress_fast if poll < 1 else _job_progress_slow)(key)


@st.fragment(run_every=0.5)
def _job_progress_fast(key: str) -> None:
    _job_status(key)


@st.fragment(run_every=2.0)
def _job_progress_slow(key: str) -> None:
    _job_status(key)


def _job_status(key: str) -> None:
    job = manager().job(key)
    if job is None:
        return
    if job.state == "failed":
        st.error(f"Could not compute this: {job.error}", icon=":material/error:")
        return
    if job.state in ("done", "cancelled"):
        st.rerun()
    ahead = manager().jobs_ahead(job) if job.state == "queued" else []
    waiting = f" (queued behind: {', '.join(j.title for j in ahead)})" if ahead else ""
    # Not `with st.status(...)`: leaving that block marks the status complete (a tick), and the job runs on.
    if manager().held() and "explore the map" not in job.message:  # not said twice
        waiting += f" · background work is paused while you explore the map; it resumes {jobs.HOLD_S:g} s after your last click"
    box = st.status(f"{job.message}{waiting}", state="running")
    box.caption(f"Started {time.time() - job.submitted_at:.0f} s ago. The result is stored with the run, "
                "so this happens once.")  # fmt: skip
    if job.fraction is not None:  # the map's layout reports its epochs
        st.progress(job.fraction)


# ---------------------------------------------------------------- images
def show_image(images: np.ndarray, row: int, caption: str, scale: int = 8) -> None:
    st.image(neighbours.thumbnail(images[row], scale), caption=caption)


GRID_CSS = """<style>
.lab-grid { display: grid; grid-template-columns: repeat(var(--cols), minmax(0, 1fr)); gap: 0.6rem; }
.lab-grid figure { margin: 0; text-align: center; }
.lab-grid img { width: 100%; image-rendering: pixelated; display: block; }
.lab-grid figcaption { font-size: 0.8rem; color: rgba(49, 51, 63, 0.6); margin-top: 0.2rem; }
</style>"""


def _png_uri(rgb: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def image_grid(cells: list[tuple[np.ndarray, str]], cols: int, name: str) -> None:
    """RGB images with captions as one HTML grid, the PNGs inlined: one element instead of an
    st.image per picture, so no image requests and far less for the browser to lay out, which
    matters for a map click's latency (`python -m lab bench-browser` times it). `name` labels the
    grid for screen readers and tests."""
    figures = "".join(
        f'<figure><img src="{_png_uri(img)}" alt="{html.escape(text)}"><figcaption>{html.escape(text)}</figcaption></figure>'
        for img, text in cells
    )
    st.html(f'<div class="lab-grid" aria-label="{html.escape(name)}" style="--cols:{cols}">'
            f"{figures}</div>{GRID_CSS}")  # fmt: skip


def neighbour_grid(run: Run, images: np.ndarray, nb, names, cols: int = 8) -> None:
    """The k nearest neighbours as a grid; other-class neighbours framed red and captioned with
    their class, same-class ones with their cosine only."""
    thumbs = neighbours.neighbour_thumbnails(images, nb)
    texts = [f"✗ {names[nb.labels[i]]} · {nb.sims[i]:.3f}" if nb.other_class[i] else f"{nb.sims[i]:.3f}"
             for i in range(len(thumbs))]  # fmt: skip
    image_grid(list(zip(thumbs, texts, strict=True)), cols, "nearest neighbours")


def class_examples(run: Run, images: np.ndarray, names, cols: int = 5) -> None:
    """One training image of each class (its first), framed in the class's colour on the map."""
    train = ~np.asarray(run.is_test, bool)
    cells = []
    for c, name in enumerate(names):
        rows = np.flatnonzero((run.labels == c) & train)
        if len(rows):
            frame = figures.hex_rgb(PALETTE[c % len(PALETTE)])
            cells.append((neighbours.thumbnail(images[rows[0]], 3, frame=frame), name))
    image_grid(cells, cols, "class examples")


def describe_row(run: Run, row: int, names) -> str:
    split = "test" if run.is_test[row] else "training"
    return f"**{names[run.labels[row]]}** · {split} image #{run.index[row]} · map row {row}"


def pairs_grid(images: np.ndarray, pairs, names, labels, n: int, other_cos=None, other_name="", cols=6):
    """The n most similar cross-class pairs as image pairs, with their cosine (and a second run's)."""
    cells = []
    for p in range(min(n, len(pairs.i))):
        i, j = int(pairs.i[p]), int(pairs.j[p])
        gap = np.full((images.shape[1], images.shape[2], 2), 255, np.uint8)
        pair = np.concatenate([images[i], gap, images[j]], axis=2)
        text = f"{names[labels[i]]} ↔ {names[labels[j]]} · cos {pairs.cosine[p]:.4f}"
        if other_cos is not None:
            text += f" · {other_name}: {other_cos[p]:.4f}"
        cells.append((neighbours.thumbnail(pair, 3), text))
    image_grid(cells, cols, "cross-class pairs")


def default_train_config(dataset: str | None = None):
    return default_config(dataset or default_dataset())


def computed(what: str, fn):
    """fn(progress) with a progress bar while it runs (none for cached results); a ValueError
    becomes a readable error box and None."""
    slot = st.empty()
    try:
        return fn(lambda fraction, message: slot.progress(fraction, text=message))
    except ValueError as exc:
        st.error(f"Cannot compute {what}: {exc}", icon=":material/error:")
        return None
    finally:
        slot.empty()
