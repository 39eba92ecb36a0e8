"""Tilting: image–label page. A small image encoder and a label embedding trained with the label|image
(cross-entropy), image|label and two-sided losses of Baptista, Stuart & Tran 2025: how sharp the label
probabilities are, and how diverse the images drawn for a label with weights e^s are. Computed in the
worker (lab.papers.tilting2025.imagelabel), cached under the runs folder; this page only reads and draws."""

import dataclasses

import numpy as np
import streamlit as st

from lab.core import data as lab_data
from lab.papers.tilting2025 import figures, jobs, results
from lab.papers.tilting2025.constants import CITE, IMAGE_DIM, IMAGE_EPOCHS, IMAGE_LOSSES
from lab.papers.tilting2025.imagelabel import ImageLabelConfig
from lab.view.thumbnails import thumbnail
from pages.ui import state
from pages.ui.images import image_grid
from pages.ui.progress import ensure_result

state.require_app()  # a page opened by its URL right after the server started

st.title("Images and labels: which conditional does each loss fit?")
st.caption(
    f"After {CITE}. **[P]** the paper's · **[L]** the lab's design (the encoder, the scale, the measures)."
)
st.markdown(
    "With u = an image and v = its label, and a label encoder that is a learned vector per class, the one-sided "
    "**label|image** loss is cross-entropy [P]: it fits the model's p(label | image) and nothing else. The "
    "**image|label** loss fits the model's image | label, which is the pool of images reweighted by e^s(x, c); "
    "the **two-sided** loss fits both. Measured on the test split: the sharpness of p(label | image), and the "
    "diversity of images drawn for a label with weights e^s (effective sample size, distinct draws) [L]."
)


@st.cache_resource(show_spinner="Loading the test images...", max_entries=2)
def test_split(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The test images uint8 [M, C, H, W] and their labels [M]."""
    data = lab_data.load_dataset(dataset)
    return data.test_images.numpy(), data.test_labels.numpy()


def choose() -> ImageLabelConfig | None:
    a, b, c = st.columns(3)
    names = state.available_datasets()
    dataset = a.selectbox("dataset", names, index=names.index(state.default_dataset()), key="il_dataset")
    epochs = b.select_slider("epochs", (1.0, 3.0, 6.0), IMAGE_EPOCHS, key="il_epochs")
    n_e = c.select_slider("n_e (embedding size)", (8, 16, 32, 64), IMAGE_DIM, key="il_ne")
    try:
        return ImageLabelConfig(dataset=dataset, epochs=epochs, n_e=n_e)
    except ValueError as exc:
        st.error(f"{exc} Nothing was trained.", icon=":material/error:")
        return None


def what_was_seen(demo: dict) -> str:
    """The two findings in words, from the numbers."""
    m = demo["losses"]
    sharp = max(m, key=lambda loss: m[loss]["max_probability"])
    diverse = max(m, key=lambda loss: m[loss]["ess"])
    narrow = min(m, key=lambda loss: m[loss]["ess"])
    return (f"Sharpest label probabilities: **{sharp}** (mean largest p(label | image) "
            f"{m[sharp]['max_probability']:.3f}; the others "
            + ", ".join(f"{k} {v['max_probability']:.3f}" for k, v in m.items() if k != sharp)
            + f"). Most diverse images for a label: **{diverse}** (effective sample size {m[diverse]['ess']:.0f} "
            f"of a pool of {demo['config']['pool']:,}, {m[diverse]['on_label']:.0%} of the weight on the label); "
            f"least: **{narrow}** ({m[narrow]['ess']:.1f}, its largest single weight {m[narrow]['top_weight']:.3f} "
            f"on average, {m[narrow]['on_label']:.0%} of the weight on the label).")  # fmt: skip


COLUMNS = {"accuracy": "accuracy", "max_probability": "mean largest p(label | image)", "entropy": "mean entropy (nats)",
           "ess": "effective sample size", "top_weight": "largest weight", "distinct": "distinct draws",
           "on_label": "weight on the label"}  # fmt: skip


def drawn_grid(demo: dict, label: int, images: np.ndarray, labels: np.ndarray) -> None:
    names = demo["classes"]
    for loss, m in demo["losses"].items():
        row = m["per_label"][label]
        st.markdown(f"**{IMAGE_LOSSES[loss]}** — effective sample size {row['ess']:.1f}, {row['distinct']} distinct "
                    f"of {len(row['drawn'])} draws, {row['on_label']:.0%} of the weight on {names[label]}")  # fmt: skip
        cells = [(thumbnail(images[i], 2), "✓" if labels[i] == label else f"✗ {names[labels[i]]}")
                 for i in row["drawn"]]  # fmt: skip
        image_grid(cells, 16, f"images drawn for {names[label]} under {loss}")


cfg = choose()
if cfg is not None:
    demo = ensure_result(results.stored_image_label(cfg, state.runs_root()), jobs.IMAGE_LABEL, jobs.SETTINGS,
                         f"image–label demo on {cfg.dataset}", params=dataclasses.asdict(cfg))  # fmt: skip
    if demo is not None:
        st.info(what_was_seen(demo), icon=":material/visibility:")
        st.plotly_chart(figures.image_label_figure(demo), theme=None, key="il_bars")
        reference = ("reference: label prior; uniform draws within the label [L]", demo["reference"])
        rows = [{"loss": IMAGE_LOSSES.get(k, k), **{name: round(v[c], 4) for c, name in COLUMNS.items()}}
                for k, v in [*demo["losses"].items(), reference]]  # fmt: skip
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption(f"{demo['source']}: {demo['n_train']:,} training images, {demo['config']['epochs']:g} epochs, "
                   f"MLP {demo['config']['hidden']} wide, n_e = {demo['config']['n_e']}; measured on "
                   f"{demo['n_test']:,} test images, images drawn from the first {demo['config']['pool']:,}.")  # fmt: skip
        label = st.selectbox("Images drawn for the label", range(len(demo["classes"])),
                             format_func=lambda c: demo["classes"][c], key="il_label")  # fmt: skip
        drawn_grid(demo, label, *test_split(cfg.dataset))
