"""The sidebar: the device, the stored runs (the selected run is what every page shows), the datasets
and where the runs live."""

from __future__ import annotations

import streamlit as st
import torch

from lab.core.device import pick_device
from lab.view.labels import run_label
from pages.ui.cards import acc
from pages.ui.state import datasets, list_runs, runs_root


def device_line() -> str:
    dev = pick_device()
    if dev.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(0)}"
    if dev.type == "mps":
        return "MPS (Apple GPU)"
    return f"CPU · {torch.get_num_threads()} threads"


def sidebar():
    """Draw the sidebar; returns the selected run (None when no run is stored)."""
    run = None
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
            st.selectbox("Stored run", ids, key="run_picker", format_func=lambda i: run_label(by_id[i], among=runs),
                         help="Every trained config is stored on disk; pick one to explore. Each is named by "
                              "method, dataset, embedding size p, what differs from the default config, and "
                              "its kNN accuracy.")  # fmt: skip
            run = by_id[st.session_state["run_picker"]]
            m, px = run.metrics, run.metrics.get("pixels", {})
            st.caption(
                f"{run_label(run, score=False)}  \nkNN {acc(m, 'knn_acc')} · linear {acc(m, 'linear_acc')}  \n"
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
    return run
