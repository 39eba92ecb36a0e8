"""Train page: choose a config, see what the augmentation does, train in the background."""

import datetime

import numpy as np
import streamlit as st

from lab import maps
from lab.augment import AugmentParams, augment, make_generator
from lab.data import FASHION_HOWTO, load_dataset
from lab.methods import METHODS
from lab.models import ENCODERS
from lab.neighbours import thumbnail
from lab.runs import RunStore, run_id
from lab.train import TrainConfig, default_epochs, default_run_duration, pick_device
from pages import common

common.require_app()  # a page opened by its URL right after the server started

EMBEDDING_SIZES = [2**i for i in range(1, 12)]  # 2 ... 2048
STRIP_SEED = 0
D = TrainConfig()  # the lab's defaults, shown as the controls' starting values

st.title("Train a model")
st.caption(
    "Pick a dataset and an objective, see what the augmentation does to a few images, then train. "
    "Every config is stored on disk: asking for it again shows its results at once."
)

available = common.available_datasets()
if "fashion-mnist" not in available:
    st.warning("Fashion-MNIST is not installed here, so only the datasets present are offered "
               "(digits always is). How to get Fashion-MNIST:")  # fmt: skip
    st.code(FASHION_HOWTO, language=None)

mgr = common.manager()


def _submit(cfg: TrainConfig) -> None:
    job = mgr.submit_training(cfg)
    st.session_state["my_job"] = job.key


# ---- training progress ---------------------------------------------------------------------
@st.fragment(run_every=2.0)
def training_progress(key: str) -> None:
    """Polls the background job; the rest of the page stays usable meanwhile. Every 2 s, not more
    often: in a one-off comparison on 2 cores, polling every second took chromium 0.21 cores instead
    of 0.12 to redraw the progress and loss chart, and training ran about 5 % slower (`python -m lab
    bench-browser` prints the cores used as the app is). The live loss curve is a static SVG for the
    same reason (common.live_loss_svg). The map's job starts in the worker the moment training ends,
    whatever this page does."""
    job = mgr.job(key)
    if job is None:
        return
    if not job.active:
        if job.state == "done" and job.run is not None:
            common.select_run(job.run.id)
        st.rerun()
    pr = job.progress
    with st.container(border=True):
        st.markdown(f"#### Training {job.title}")
        if job.state == "queued":
            ahead = ", ".join(j.title for j in mgr.jobs_ahead(job)) or "nothing"
            st.info(f"Queued behind: {ahead}. One job runs at a time: two at once on 2 cores are slower "
                    "than the same two in turn.", icon=":material/hourglass_top:")  # fmt: skip
        elif pr is None:
            st.progress(0.0, text=job.message)
        else:
            text = (f"{job.message} · epoch {pr.epoch:.2f} · loss {pr.loss:.3f} · "
                    f"{pr.images_per_s:,.0f} images/s · ETA {pr.eta_s:.0f} s")  # fmt: skip
            st.progress(
                min(1.0, pr.step / pr.total_steps), text=text if pr.step < pr.total_steps else job.message
            )
            st.image(common.live_loss_svg(job.losses, pr.total_steps), width="stretch")
        if st.button("Cancel", key=f"cancel-{key}", icon=":material/stop:"):
            job.cancel()
            st.rerun()


# ---- empty state ---------------------------------------------------------------------------
# A first run, started from this box (or from the Map page's), shows its progress and its outcome
# here at the top, where the user clicked, instead of below the controls, out of sight.
mine = mgr.job(st.session_state.get("my_job", ""))
first_run = mine is not None and st.session_state.get("first_run_job") == mine.key
progress_on_top = first_run and mine.active
first_run_done = first_run and mine.state == "done" and mine.run is not None
if progress_on_top:
    training_progress(mine.key)
elif first_run_done:
    with st.container(border=True):
        st.markdown(f"#### Your first run is ready: {mine.run.title()}")
        ready = maps.stored_map(mine.run, "backbone") is not None
        st.write(
            "Its scores are in the sidebar; with the controls below on its config, its loss curve "
            f"is at the foot of this page. Its map {'is ready' if ready else 'is being laid out in the background'}."
        )
        if st.button("See its map", type="primary", icon=":material/scatter_plot:", key="first-run-map"):
            st.session_state.pop("first_run_job", None)
            common.select_run(mine.run.id)
            st.switch_page("pages/2_map.py")
else:
    # said here whether or not other runs exist meanwhile: the foot of the page leaves it to this box
    if first_run and mine.state == "failed":
        st.error(f"Training failed: {mine.error}", icon=":material/error:")
    elif first_run and mine.state == "cancelled":
        st.info(mine.message)
    if not common.list_runs():
        default = common.default_train_config()
        with st.container(border=True):
            st.markdown("#### No runs yet")
            st.write(f"Start with the default: **SimCLR on {default.dataset}**, {default.epochs:g} epochs "
                     f"({default_run_duration(default.dataset, pick_device())}).")  # fmt: skip
            if st.button("Train the default model", type="primary", icon=":material/play_arrow:"):
                _submit(default)
                st.session_state["first_run_job"] = st.session_state["my_job"]
                st.rerun()


# ---- controls ------------------------------------------------------------------------------
if st.session_state.get("t_dataset", available[0]) not in available:  # a dataset no longer here
    del st.session_state["t_dataset"]

left, right = st.columns([1, 1], gap="large")
with left:
    st.subheader("Data and model")
    dataset = st.selectbox(
        "Dataset", available, index=available.index(common.default_dataset()), key="t_dataset"
    )
    subset = st.number_input("Training images (0 = the whole training set)", 0, 60_000, D.subset or 0, step=1000,
                             help="A class-balanced, seeded subset of the training split. The test split "
                                  "is always whole.")  # fmt: skip
    methods = list(METHODS)
    method = st.selectbox("Method", methods, index=methods.index(D.method), key="t_method",
                          format_func=lambda m: f"{m}  {METHODS[m].tag}")  # fmt: skip
    st.caption(f"{METHODS[method].summary}. Tags: [P] from the paper, [L] lab design.")
    c1, c2 = st.columns(2)
    encoder = c1.selectbox(
        "Encoder",
        ENCODERS,
        index=ENCODERS.index(D.encoder),
        help="cnn: 4-block CNN (fast on CPU); resnet18: CIFAR-style ResNet-18.",
    )
    width = c2.number_input(
        "Width", 1, 256, D.width, help="Channels of the first block (cnn) or the ResNet's base width."
    )
    embedding_size = st.select_slider("Embedding size (projector output p)", EMBEDDING_SIZES, value=D.embedding_size,
                                      help="The size of z, where the contrastive loss is computed.")  # fmt: skip
    uses = METHODS[method]
    c1, c2 = st.columns(2)
    temperature = c1.slider("Temperature", 0.05, 1.0, D.temperature, 0.05, disabled=not uses.uses_temperature,
                            help="Softmax temperature of the contrastive loss (unused by 'supervised').")  # fmt: skip
    alpha = c2.slider("Alpha (joint only)", 0.0, 1.0, D.alpha, 0.05, disabled=not uses.uses_alpha,
                      help="Weight of SupCon in the joint loss: 0 = SimCLR, 1 = SupCon.")  # fmt: skip
    c1, c2, c3 = st.columns(3)
    # Each dataset (and method: supervised sees one view per image, so it runs 3 epochs) has its own
    # defaults, passed as the inputs' values under keys of their own rather than written into
    # st.session_state: a rerun that interrupted a first run once left such seeded inputs showing
    # their minimum in the browser while the page computed with the seeded values.
    d = common.default_train_config(dataset)
    default_ep = float(d.epochs) if dataset == "digits" else float(default_epochs(method))
    epochs = c1.number_input("Epochs", 0.1, 200.0, default_ep, step=0.5, key=f"t_epochs-{dataset}-{method}")
    batch_size = c2.number_input("Batch size", 2, 4096, d.batch_size, step=64, key=f"t_batch-{dataset}")
    seed = c3.number_input("Seed", 0, 10_000, D.seed)
    # Picking a dataset or a method switches epochs and batch size to that choice's own inputs. A click
    # on Start that arrives with the change was made before the user saw them: catch it below.
    shown_before = st.session_state.get("t_shown")
    st.session_state["t_shown"] = (dataset, method)
    with st.expander("Optimiser"):
        lr = st.number_input("Learning rate (AdamW, cosine decay)", 1e-5, 1.0, D.lr, format="%.4f")
        weight_decay = st.number_input("Weight decay", 0.0, 1.0, D.weight_decay, format="%.4f")

with right:
    st.subheader("Augmentation")
    strength = st.slider("Augmentation strength", 0.0, 1.0, D.aug_strength, 0.05,
                         help="One knob for every transform: 0 = no augmentation, 1 = the SimCLR paper's setting.")  # fmt: skip
    p = AugmentParams.from_strength(strength)
    st.caption(
        f"Random crop keeping {p.crop_min_area:.0%}–100 % of the area · horizontal flip "
        f"{'p=0.5' if p.flip_p else 'off'} · brightness and contrast ±{p.brightness:.0%} (p=0.8) · "
        f"blur p={p.blur_p:.2f}. Mapping from the lab's spec, section 2 [L]."
    )

    @st.cache_resource(show_spinner=False)
    def strip_images(name: str, n: int = 6) -> np.ndarray:
        """One training image of each of the first n classes: uint8 [n, C, H, W]."""
        ds = load_dataset(name)
        labels = ds.train_labels.numpy()
        rows = [int(np.flatnonzero(labels == c)[0]) for c in range(min(n, ds.num_classes))]
        return ds.train_images[rows].numpy()

    try:
        originals = strip_images(dataset)
    except Exception as exc:  # the dataset vanished or is broken
        st.error(f"Cannot show examples of {dataset}: {exc}")
        originals = None
    if originals is not None:
        import torch

        draw = st.session_state.get("strip_draw", 0)
        batch = torch.from_numpy(np.concatenate([originals, originals]))
        views = (
            (augment(batch, p, make_generator(STRIP_SEED + draw, "cpu")).numpy() * 255)
            .round()
            .astype(np.uint8)
        )
        n = len(originals)
        names = common.class_names(dataset)
        for title, row in (("original", originals), ("view 1", views[:n]), ("view 2", views[n:])):
            cols = st.columns([1.3] + [1] * n, vertical_alignment="center")
            cols[0].caption(title)
            for i in range(n):
                cols[i + 1].image(thumbnail(row[i], 3), width="stretch",
                                  caption=names[i].replace("/", "/\u200b") if title == "view 2" else None)  # fmt: skip
        st.caption("Each column: an original and two augmented views of it, as the model sees them in one "
                   "training step. Contrastive methods learn to map the two views to nearby points.")  # fmt: skip
        if st.button("Draw new views", icon=":material/refresh:"):
            st.session_state["strip_draw"] = draw + 1
            st.rerun()

try:
    cfg = TrainConfig(
        dataset=dataset, subset=int(subset) or None, method=method, encoder=encoder, width=int(width),
        embedding_size=int(embedding_size), aug_strength=float(strength), temperature=float(temperature),
        alpha=float(alpha), batch_size=int(batch_size), epochs=float(epochs), lr=float(lr),
        weight_decay=float(weight_decay), seed=int(seed),
    )  # fmt: skip
except ValueError as exc:
    st.error(f"This config cannot be trained: {exc}")
    st.stop()


# ---- training and results -------------------------------------------------------------------
def show_results(run, just_trained: bool) -> None:
    when = datetime.datetime.fromtimestamp(run.info.get("finished_at", 0)).strftime("%Y-%m-%d %H:%M")
    if just_trained:
        st.success(f"Trained and stored (run `{run.id}`).", icon=":material/check_circle:")
    else:
        st.success(f"**Stored** — this exact config was trained on {when} (run `{run.id}`); "
                   "results below, nothing to train.", icon=":material/inventory_2:")  # fmt: skip
    common.metric_cards(run)
    common.loss_chart(run.losses, height=200)
    if maps.stored_map(run, "backbone") is None:
        st.caption(
            "Its map is being prepared in the background; the Map page shows it as soon as it is ready."
        )
    if st.button("Open its map", type="primary", icon=":material/scatter_plot:"):
        common.select_run(run.id)
        st.switch_page("pages/2_map.py")


st.divider()
rid = run_id(cfg)
job = mgr.job(rid)
if mine is not None and mine.active and mine.key != rid and not progress_on_top:
    training_progress(mine.key)  # e.g. the default model, started from the empty state
if job is not None and job.active:
    if progress_on_top and job.key == mine.key:
        st.caption("This config is training: its progress is at the top of the page.")
    else:
        training_progress(rid)
else:
    stored = RunStore(common.runs_root()).find(cfg)
    if stored is not None:
        show_results(stored, just_trained=job is not None and job.state == "done" and not job.was_stored)
    else:
        shown_on_top = first_run and job is mine  # its failure is said at the top already
        if job is not None and job.state == "failed" and not shown_on_top:
            st.error(f"Training failed: {job.error}", icon=":material/error:")
        elif job is not None and job.state == "cancelled" and not shown_on_top:
            st.info(job.message)
        try:
            n_train = len(load_dataset(cfg.dataset, cfg.subset, cfg.seed).train_labels)
        except Exception as exc:  # missing files, a subset smaller than the classes, ...
            st.error(f"Cannot load {cfg.dataset}: {exc}")
            st.stop()
        steps = max(1, round(cfg.epochs * max(1, n_train // min(cfg.batch_size, n_train))))
        st.caption(f"Not trained yet: about {steps:,} steps of {min(cfg.batch_size, n_train)} images. "
                   "Training runs in the background; you can leave this page.")  # fmt: skip
        if st.button("Start training", type="primary", icon=":material/play_arrow:"):
            if shown_before not in (None, (dataset, method)):
                st.warning("The dataset or method changed as you clicked Start, and epochs and batch size follow "
                           "them: nothing was started. Check those settings, then click Start training again.",
                           icon=":material/warning:")  # fmt: skip
            else:
                _submit(cfg)
                st.rerun()
