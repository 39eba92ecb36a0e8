"""What the app computes, a user can take away: bytes for the download buttons.

Embeddings as .npy, as CSV (row, split, index in split, label, class, map coordinates, then the
features) and for TensorBoard's Embedding Projector (tensors and metadata TSV in a zip), a run's
metrics and config as JSON, every table a page shows as CSV and JSON, and a figure as interactive HTML (plotly,
with plotly.js inlined so it opens offline) or PNG. PNG needs plotly's `kaleido` package,
which drives a local Chromium (Debian's works offline); without it `figure_png` returns None and
`PNG_UNAVAILABLE` says how to get a PNG anyway (the chart's own camera button).
"""

from __future__ import annotations

import io
import json

import numpy as np

PNG_UNAVAILABLE = (
    "PNG export needs the `kaleido` package and a Chromium it can drive (`apt-get install chromium`, or "
    "set BROWSER_PATH); one of them was not found here. Use the camera icon in the chart's toolbar (top "
    "right of the chart, on hover) to save the view as PNG."
)


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def embeddings_csv(run, space: str = "backbone", xy: np.ndarray | None = None) -> bytes:
    """CSV of a run's embeddings: row, split, index (row in its split), label, class,
    map_x, map_y (when a map is given), then one column per dimension f0..f{d-1}."""
    import pandas as pd  # a streamlit dependency; only needed for this export

    x = run.features(space)
    labels = run.labels
    classes = np.asarray(_class_names(run), dtype=object)
    table = {
        "row": np.arange(len(x)),
        "split": np.where(run.is_test, "test", "train"),
        "index": run.index,
        "label": labels,
        "class": classes[labels],
    }
    if xy is not None:
        table |= {"map_x": xy[:, 0], "map_y": xy[:, 1]}
    head = pd.DataFrame(table)
    feats = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    return pd.concat([head, feats], axis=1).to_csv(index=False, float_format="%.6g").encode()


def _class_names(run) -> list[str]:
    from lab.core.data import load_dataset

    try:
        return list(load_dataset(run.config.dataset, run.config.subset, run.config.seed).classes)
    except Exception:  # dataset gone since training: fall back to class ids
        return [str(c) for c in range(int(run.labels.max()) + 1)]


def metrics_json(run) -> bytes:
    """The run's metrics (beside the raw-pixel baseline), full config and provenance as JSON."""
    from lab.view.labels import run_label

    doc = {
        "run_id": run.id,
        "title": run_label(run, score=False),
        "config": run.config.to_dict(),
        "info": run.info,
        "metrics": run.metrics,
    }
    return json.dumps(doc, indent=2, default=str).encode()


def figure_html(fig) -> bytes:
    """A plotly figure as a standalone interactive HTML page (plotly.js inlined: works offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True).encode()


def png_available() -> bool:
    """Whether kaleido is installed and finds a Chromium to drive (its BROWSER_PATH, PATH, the usual
    install folders). Without one, a PNG button would only fail after the click, with Streamlit's
    bare "Failed to generate file for download"."""
    try:
        import kaleido  # noqa: F401
        from choreographer.browsers.chromium import Chromium  # kaleido's browser driver
    except ImportError:
        return False
    try:
        return Chromium.find_browser(skip_local=False) is not None
    except Exception:  # a changed choreographer API: let kaleido try, figure_png returns None on failure
        return True


def figure_png(fig, width: int = 1200, height: int = 800) -> bytes | None:
    """A plotly figure as PNG through kaleido (a headless local Chromium), or None when kaleido
    is not installed (then show PNG_UNAVAILABLE). Takes a few seconds: call it lazily."""
    if not png_available():
        return None
    try:
        return fig.to_image(format="png", width=width, height=height, scale=1)
    except Exception:  # kaleido installed but no Chromium/Chrome it can drive on this machine
        return None


def pairs_csv(pairs, labels: np.ndarray, names, other_cosine: np.ndarray | None = None) -> bytes:
    """CSV of cross-class pairs: rank, row_i, row_j, class_i, class_j, cosine (and cosine_other)."""
    lines = [
        "rank,row_i,row_j,class_i,class_j,cosine" + (",cosine_other" if other_cosine is not None else "")
    ]
    for r, (i, j, c) in enumerate(
        zip(pairs.i.tolist(), pairs.j.tolist(), pairs.cosine.tolist(), strict=True)
    ):
        line = f'{r + 1},{i},{j},"{names[labels[i]]}","{names[labels[j]]}",{c:.6f}'
        if other_cosine is not None:
            line += f",{other_cosine[r]:.6f}"
        lines.append(line)
    return ("\n".join(lines) + "\n").encode()


def rows_csv(rows: list[dict]) -> bytes:
    """A table (one dict per row, as a page shows it) as CSV, columns in the first row's order."""
    import pandas as pd

    return pd.DataFrame(rows).to_csv(index=False, float_format="%.6g").encode()


def rows_json(rows: list[dict]) -> bytes:
    """The same table as JSON: a list of objects (NaN as null)."""
    clean = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in rows]
    return json.dumps(clean, indent=1, default=str).encode()


def projector_zip(run, space: str = "backbone") -> bytes:
    """A run's embeddings for TensorBoard's Embedding Projector (projector.tensorflow.org loads these
    too): tensors.tsv (one row per image, tab-separated), metadata.tsv (a header, then class, label,
    split and row of each image) and projector_config.pbtxt naming both, in one zip."""
    import zipfile

    x = np.asarray(run.features(space), dtype=np.float32)
    classes = np.asarray(_class_names(run), dtype=object)
    labels = np.asarray(run.labels)
    split = np.where(np.asarray(run.is_test), "test", "train")
    buf = io.BytesIO()
    tensors = io.StringIO()
    np.savetxt(tensors, x, delimiter="\t", fmt="%.6g")
    meta = ["class\tlabel\tsplit\trow"] + [
        f"{classes[y]}\t{y}\t{s}\t{i}" for i, (y, s) in enumerate(zip(labels, split, strict=True))
    ]
    config = ('embeddings {\n  tensor_name: "' + f"{run.id}-{space}" + '"\n  tensor_path: "tensors.tsv"\n'
              '  metadata_path: "metadata.tsv"\n}\n')  # fmt: skip
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("tensors.tsv", tensors.getvalue())
        z.writestr("metadata.tsv", "\n".join(meta) + "\n")
        z.writestr("projector_config.pbtxt", config)
    return buf.getvalue()
