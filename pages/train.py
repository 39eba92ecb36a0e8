"""Train page: choose a config, see what the augmentation does, train in the background."""

import datetime
import html

import streamlit as st

from lab.core.augment import describe_strength, preview_views
from lab.core.config import DEFAULT_BUDGET_S, TrainConfig, default_budget, default_epochs
from lab.core.data import FASHION_HOWTO, class_examples, get_dataset_spec, load_dataset
from lab.core.device import default_run_duration, pick_device
from lab.core.methods import all_methods
from lab.core.models import ENCODERS
from lab.core.snapshots import MAX_SNAPSHOTS
from lab.core.train import plan_steps
from lab.store.budget import BudgetJob, stored_budget
from lab.store.maps import stored_map
from lab.store.runs import RunStore, run_id
from lab.view.figures import live_loss_svg
from lab.view.labels import run_label
from lab.view.thumbnails import thumbnail
from pages.ui import state
from pages.ui.cards import metric_cards
from pages.ui.charts import loss_chart
from pages.ui.progress import ensure_result, ensure_scores
from pages.ui.timeline import live_frames

state.require_app()  # a page opened by its URL right after the server started

EMBEDDING_SIZES = [2**i for i in range(1, 12)]  # 2 ... 2048
STRIP_SEED = 0
D = TrainConfig()  # the lab's defaults, shown as the controls' starting values

st.title("Train a model")
st.caption(
    "Pick a dataset and an objective, see what the augmentation does to a few images, then train. "
    "Every config is stored on disk: asking for it again shows its results at once."
)

available = state.available_datasets()
if "fashion-mnist" not in available:
    st.warning("Fashion-MNIST is not installed here, so only the datasets present are offered "
               "(digits always is). How to get Fashion-MNIST:")  # fmt: skip
    st.code(FASHION_HOWTO, language=None)

mgr = state.manager()


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
    same reason (lab.view.figures.live_loss_svg). The map's job starts in the worker the moment training ends,
    whatever this page does."""
    job = mgr.job(key)
    if job is None:
        return
    if not job.active:
        if job.state == "done" and job.run is not None:
            state.select_run(job.run.id)
        st.rerun()
    pr = job.progress
    with st.container(border=True):
        st.markdown(f"#### Training {job.title}")
        if job.state == "queued":
            ahead = mgr.jobs_ahead(job)
            if ahead:
                st.info(f"Queued behind: {', '.join(j.title for j in ahead)}. One job runs at a time: two at once on "
                        "2 cores are slower than the same two in turn.", icon=":material/hourglass_top:")  # fmt: skip
            else:
                st.progress(0.0, text="Starting...")
        elif pr is None:
            st.progress(0.0, text=job.message)
        else:
            text = (f"{job.message} · epoch {pr.epoch:.2f} · loss {pr.loss:.3f} · "
                    f"{pr.images_per_s:,.0f} images/s · ETA {pr.eta_s:.0f} s")  # fmt: skip
            st.progress(
                min(1.0, pr.step / pr.total_steps), text=text if pr.step < pr.total_steps else job.message
            )
            st.image(live_loss_svg(job.losses, pr.total_steps), width="stretch")
            live_frames(job)  # a run with snapshots: each one's provisional layout as it is taken
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
        st.markdown(f"#### Your first run is ready: {run_label(mine.run, score=False)}")
        ready = stored_map(mine.run, "backbone") is not None
        st.write(
            "Its scores are in the sidebar; with the controls below on its config, its loss curve "
            f"is at the foot of this page. Its map {'is ready' if ready else 'is being laid out in the background'}."
        )
        if st.button("See its map", type="primary", icon=":material/scatter_plot:", key="first-run-map"):
            st.session_state.pop("first_run_job", None)
            state.select_run(mine.run.id)
            st.switch_page("pages/map.py")
else:
    # said here whether or not other runs exist meanwhile: the foot of the page leaves it to this box
    if first_run and mine.state == "failed":
        st.error(f"Training failed: {mine.error}", icon=":material/error:")
    elif first_run and mine.state == "cancelled":
        st.info(mine.message)
    if not state.list_runs():
        default = state.default_train_config()
        with st.container(border=True):
            st.markdown("#### No runs yet")
            st.write(f"Start with the default: **SimCLR on {default.dataset}**, {default.epochs:g} epochs "
                     f"({default_run_duration(default.dataset, pick_device())}).")  # fmt: skip
            if st.button("Train the default model", type="primary", icon=":material/play_arrow:"):
                _submit(default)
                st.session_state["first_run_job"] = st.session_state["my_job"]
                st.rerun()


def param_widget(p, key: str, dataset: str):
    """The widget of one declared option (lab.core.methods.Param): a select box (of its choices, or of
    the stored runs of the dataset when it names a run), a slider or a number."""
    label, help_text = p.label or p.name, f"{p.help} {p.tag}"
    if p.names_run:
        runs = [r for r in state.list_runs() if r.config.dataset == dataset]
        if not runs:
            st.warning(
                f"{label}: no run of {dataset} is stored yet. Train one first.", icon=":material/info:"
            )
            return p.default
        names = {r.id: f"{run_label(r, among=runs)} · {r.id}" for r in runs}
        return st.selectbox(label, list(names), format_func=names.get, help=help_text, key=key)
    if p.choices:
        return st.selectbox(label, p.choices, index=p.choices.index(p.default), help=help_text, key=key)
    if p.step is not None:
        lo, hi = p.ui_range or (p.low, p.high)
        return st.slider(
            label, float(lo), float(hi), float(p.default), float(p.step), help=help_text, key=key
        )
    return st.number_input(label, value=p.default, help=help_text, key=key)


# ---- controls ------------------------------------------------------------------------------
if st.session_state.get("t_dataset", available[0]) not in available:  # a dataset no longer here
    del st.session_state["t_dataset"]

left, right = st.columns([1, 1], gap="large")
with left:
    st.subheader("Data and model")
    dataset = st.selectbox(
        "Dataset", available, index=available.index(state.default_dataset()), key="t_dataset"
    )
    subset = st.number_input("Training images (0 = the whole training set)", 0, 60_000, D.subset or 0, step=1000,
                             help="A class-balanced, seeded subset of the training split. The test split "
                                  "is always whole.")  # fmt: skip
    methods = all_methods()
    method = st.selectbox("Method", list(methods), index=list(methods).index(D.method), key="t_method",
                          format_func=lambda m: f"{m}  {methods[m].tag}")  # fmt: skip
    st.caption(f"{methods[method].summary}. Tags: [P] from the paper, [L] lab design.")
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
    params = {}  # the method's and the dataset's own options, one widget each, from their declarations
    declared = [(p, f"t_param-{method}-{p.name}") for p in methods[method].params]
    declared += [(p, f"t_data-{dataset}-{p.name}") for p in get_dataset_spec(dataset).params]
    # a widget shown only under another parameter's value (Param.shown_when) follows that parameter's
    shown = [(p, key) for p, key in declared if p.shown_when is None]
    cols = st.columns(2) if declared else []
    for i, (p, key) in enumerate(shown):
        with cols[i % 2]:
            params[p.name] = param_widget(p, key, dataset)
            for q, qkey in declared:
                if q.shown_when == (p.name, params[p.name]):
                    params[q.name] = param_widget(q, qkey, dataset)
    c1, c2, c3 = st.columns(3)
    # Each dataset (and method: supervised sees one view per image, so it runs more epochs) has its own
    # defaults, passed as the inputs' values under keys of their own rather than written into
    # st.session_state: a rerun that interrupted a first run once left such seeded inputs showing
    # their minimum in the browser while the page computed with the seeded values.
    d = state.default_train_config(dataset)
    default_ep = float(default_epochs(method, dataset))
    budget_default = default_budget(dataset)
    length = st.segmented_control("Train for", ["epochs", "a time budget"], key=f"t_length-{dataset}",
                                  default="a time budget" if budget_default else "epochs",
                                  help="A time budget measures this machine's speed for the config once (a few "
                                       "seconds) and trains the epochs that fit; the run records them.")  # fmt: skip
    budget_s = None
    if length == "a time budget":
        start_s = int(budget_default or DEFAULT_BUDGET_S)
        budget_s = float(c1.number_input("Budget (seconds)", 1, 3600, start_s, step=10, key="t_budget_s"))
        epochs = default_ep  # replaced by the epochs the budget resolves to (below)
    else:
        epochs = c1.number_input(
            "Epochs", 0.1, 200.0, default_ep, step=0.5, key=f"t_epochs-{dataset}-{method}"
        )
    batch_size = c2.number_input("Batch size", 2, 4096, d.batch_size, step=64, key=f"t_batch-{dataset}")
    seed = c3.number_input("Seed", 0, 10_000, D.seed)
    # Picking a dataset or a method switches epochs and batch size to that choice's own inputs. A click
    # on Start that arrives with the change was made before the user saw them: catch it below.
    shown_before = st.session_state.get("t_shown")
    st.session_state["t_shown"] = (dataset, method)
    with st.expander("Optimiser and recording"):
        lr = st.number_input("Learning rate (AdamW, cosine decay)", 1e-5, 1.0, D.lr, format="%.4f")
        weight_decay = st.number_input("Weight decay", 0.0, 1.0, D.weight_decay, format="%.4f")
        snapshots = st.number_input("Snapshots during training", 0, MAX_SNAPSHOTS, D.snapshots, key="t_snapshots",
                                    help="Record the backbone features of a fixed class-balanced probe set (about "
                                         "5,000 images) this many times, evenly over training (0: none). The "
                                         "subclass curve (Methods side by side) reads them; a few % of training "
                                         "time.")  # fmt: skip

with right:
    st.subheader("Augmentation")
    strength = st.slider("Augmentation strength", 0.0, 1.0, D.aug_strength, 0.05,
                         help="One knob for every transform: 0 = no augmentation, 1 = the SimCLR paper's setting.")  # fmt: skip
    st.caption(describe_strength(strength) + " Mapping from the lab's spec, section 2 [L].")
    try:
        originals = class_examples(dataset)
    except Exception as exc:  # the dataset vanished or is broken
        st.error(f"Cannot show examples of {dataset}: {exc}")
        originals = None
    if originals is not None:
        draw = st.session_state.get("strip_draw", 0)
        view1, view2 = preview_views(originals, strength, seed=STRIP_SEED + draw)
        names = state.class_names(dataset)
        n = len(originals)
        head = st.columns([1.3] + [1] * n, vertical_alignment="bottom")
        for i in range(n):  # small, centred, and broken only between words or after a slash ("T-shirt/top")
            name = html.escape(names[i]).replace("/", "/<wbr>")
            head[i + 1].markdown(f"<div style='font-size:0.72rem;line-height:1.2;text-align:center;opacity:0.75;"
                                 f"overflow-wrap:normal;word-break:normal'>{name}</div>", unsafe_allow_html=True)  # fmt: skip
        for title, row in (("original", originals), ("view 1", view1), ("view 2", view2)):
            cols = st.columns([1.3] + [1] * n, vertical_alignment="center")
            cols[0].caption(title)
            for i in range(n):
                cols[i + 1].image(thumbnail(row[i].numpy(), 3), width="stretch")
        st.caption("Each column: an original and two augmented views of it, as the model sees them in one "
                   "training step. Contrastive methods learn to map the two views to nearby points.")  # fmt: skip
        if st.button("Draw new views", icon=":material/refresh:"):
            st.session_state["strip_draw"] = draw + 1
            st.rerun()

try:
    cfg = TrainConfig(
        dataset=dataset, subset=int(subset) or None, method=method, encoder=encoder, width=int(width),
        embedding_size=int(embedding_size), aug_strength=float(strength), batch_size=int(batch_size),
        epochs=float(epochs), lr=float(lr), weight_decay=float(weight_decay), seed=int(seed),
        snapshots=int(snapshots), **params,
    )  # fmt: skip
    resolved = stored_budget(cfg, budget_s, state.runs_root()) if budget_s is not None else None
    budget_key = (run_id(cfg), budget_s)  # the config as asked, before the budget sets its epochs
    cfg = resolved or cfg
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
    metric_cards(run)
    ensure_scores(run)
    loss_chart(run.losses, height=200)
    if stored_map(run, "backbone") is None:
        st.caption(
            "Its map is being prepared in the background; the Map page shows it as soon as it is ready."
        )
    if st.button("Open its map", type="primary", icon=":material/scatter_plot:"):
        state.select_run(run.id)
        st.switch_page("pages/map.py")


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
    stored = RunStore(state.runs_root()).find(cfg)
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
        plan = plan_steps(cfg, n_train)
        if budget_s is not None and resolved is None:
            st.caption(f"Not trained yet. A {budget_s:g}-s budget: this machine's speed for this config is measured "
                       "first (about 15 steps, seconds), then training runs for about that long in the background.")  # fmt: skip
        elif budget_s is not None:
            st.caption(f"Not trained yet: a {budget_s:g}-s budget is {cfg.epochs:g} epochs here, {plan.total_steps:,} "
                       f"steps of {plan.batch} images. Training runs in the background; you can leave this page.")  # fmt: skip
        else:
            st.caption(f"Not trained yet: about {plan.total_steps:,} steps of {plan.batch} images. "
                       "Training runs in the background; you can leave this page.")  # fmt: skip
        asked = budget_s is not None and st.session_state.get("t_budget_go") == budget_key
        if budget_s is not None and resolved is None and asked:  # measuring; training starts when it is done
            ensure_result(None, "budget", BudgetJob(), f"speed for a {budget_s:g}-s budget",
                          params={"config": cfg.to_dict(), "seconds": budget_s})  # fmt: skip
        elif resolved is not None and asked:
            st.session_state.pop("t_budget_go")  # the budget is resolved: train it now
            _submit(cfg)
            st.rerun()
        elif st.button("Start training", type="primary", icon=":material/play_arrow:"):
            if budget_s is not None and resolved is None:
                st.session_state["t_budget_go"] = budget_key
                st.rerun()
            elif shown_before not in (None, (dataset, method)):
                st.warning("The dataset or method changed as you clicked Start, and epochs and batch size follow "
                           "them: nothing was started. Check those settings, then click Start training again.",
                           icon=":material/warning:")  # fmt: skip
            else:
                _submit(cfg)
                st.rerun()
