"""Images on a page: single thumbnails and HTML grids of them (neighbours, class examples, pairs)."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import streamlit as st
from PIL import Image

from lab.view import figures
from lab.view.thumbnails import neighbour_thumbnails, thumbnail

PALETTE = figures.PALETTE


def show_image(images: np.ndarray, row: int, caption: str, scale: int = 8) -> None:
    st.image(thumbnail(images[row], scale), caption=caption)


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


def neighbour_grid(run, images: np.ndarray, nb, names, cols: int = 8) -> None:
    """The k nearest neighbours as a grid; other-class neighbours framed red and captioned with
    their class, same-class ones with their cosine only."""
    thumbs = neighbour_thumbnails(images, nb)
    texts = [f"✗ {names[nb.labels[i]]} · {nb.sims[i]:.3f}" if nb.other_class[i] else f"{nb.sims[i]:.3f}"
             for i in range(len(thumbs))]  # fmt: skip
    image_grid(list(zip(thumbs, texts, strict=True)), cols, "nearest neighbours")


def class_examples(run, images: np.ndarray, names, cols: int = 5) -> None:
    """One training image of each class (its first), framed in the class's colour on the map."""
    train = ~np.asarray(run.is_test, bool)
    cells = []
    for c, name in enumerate(names):
        rows = np.flatnonzero((run.labels == c) & train)
        if len(rows):
            frame = figures.hex_rgb(PALETTE[c % len(PALETTE)])
            cells.append((thumbnail(images[rows[0]], 3, frame=frame), name))
    image_grid(cells, cols, "class examples")


def describe_row(run, row: int, names) -> str:
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
            text += f" · {other_name}: " + ("—" if np.isnan(other_cos[p]) else f"{other_cos[p]:.4f}")
        cells.append((thumbnail(pair, 3), text))
    image_grid(cells, cols, "cross-class pairs")
