"""The sidebar: the device, the stored runs (the selected run is what every page shows), what is
wrong with damaged runs, the datasets and where the runs live."""

from __future__ import annotations

import json

import streamlit as st
import torch

from lab.core.config import TrainConfig
from lab.core.device import pick_device
from lab.store.maps import map_path
from lab.view.labels import run_label
from pages.ui.cards import acc
from pages.ui.state import datasets, manager, runs_root, scan_runs

SORTS = {
    "newest": lambda r: -r.info.get("finished_at", 0),
    "kNN accuracy": lambda r: -(r.metrics.get("knn_acc") or 0),
    "method": lambda r: (r.config.method, -r.info.get("finished_at", 0)),
}


def device_line() -> str:
    dev = pick_device()
    if dev.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(0)}"
    if dev.type == "mps":
        return "MPS (Apple GPU)"
    return f"CPU · {torch.get_num_threads()} threads"


def _shown_runs(runs: list) -> list:
    """The runs the picker offers: filtered by the text box (any words of the label), sorted."""
    c1, c2 = st.columns([3, 2])
    words = c1.text_input("Find runs", key="run_filter", placeholder="e.g. joint s=0.3",
                          help="Words that must all appear in a run's label (method, dataset, p, what differs "
                               "from the default config).").lower().split()  # fmt: skip
    order = c2.selectbox("Sort", list(SORTS), key="run_sort")
    shown = [r for r in runs if all(w in run_label(r, among=runs).lower() for w in words)]
    return sorted(shown, key=SORTS[order])


def _damaged(found) -> None:
    """Damaged runs by name and reason, each with a button that moves it aside and trains it again."""
    with st.expander(f"⚠️ {len(found.damaged)} damaged run(s)", expanded=True):
        for exc in found.damaged:
            st.markdown(f"**{exc.rid}**: {exc.reason}.")
            if exc.config is not None and st.button("Move aside and train again", key=f"retrain-{exc.rid}"):
                try:
                    job = manager().submit_training(TrainConfig.from_dict(exc.config))
                except ValueError as err:
                    st.error(f"Its config cannot be trained again: {err}")
                else:
                    st.session_state["my_job"] = job.key
                    st.toast(f"Training {exc.rid} again; its damaged folder is moved aside first.")
            elif exc.config is None:
                st.caption("Its config.json is unreadable too: delete the folder.")


def sidebar():
    """Draw the sidebar; returns the selected run (None when no run is stored)."""
    run = None
    with st.sidebar:
        st.markdown(f"**Device:** {device_line()}")
        found = scan_runs()
        runs = found.runs
        if "_pending_run" in st.session_state:
            st.session_state["run_picker"] = st.session_state.pop("_pending_run")
        if runs:
            shown = _shown_runs(runs) if len(runs) > 3 else runs
            picked = st.session_state.get("run_picker")
            by_id = {r.id: r for r in runs}
            ids = [r.id for r in shown] or [r.id for r in runs]
            if picked in by_id and picked not in ids:
                ids.insert(0, picked)  # the selected run stays selectable whatever the filter
            if picked not in ids:
                st.session_state["run_picker"] = ids[0]
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
                f"map: {'ready' if map_path(run, 'backbone').is_file() else 'not laid out yet'} · "
                f"data: {run.info.get('data_source', '?')}"
            )
            ready = sum(map_path(r, "backbone").is_file() for r in runs)
            if ready < len(runs):
                st.caption(f"Maps ready for {ready} of {len(runs)} runs; the others are laid out in the background "
                           "when nothing else is running, or when you open them.")  # fmt: skip
            with st.expander("Full config"):
                st.code(json.dumps({"run": run.id, **run.config.to_dict(), **{k: v for k, v in run.info.items()
                                                                               if k != "run_id"}}, indent=1),
                        language="json")  # fmt: skip
        else:
            st.caption("No runs stored yet: train one on the Train page.")
        if found.damaged:
            _damaged(found)
        if found.older:
            st.caption(f"{len(found.older)} run(s) stored by an older version of the lab are not shown "
                       "(`python -m lab runs` lists them).")  # fmt: skip
        with st.expander("Datasets"):
            for name, src in datasets().items():
                ok = not src.startswith("unavailable")
                st.markdown(f"{'✅' if ok else '⚪'} **{name}** — {src}")
        st.caption(f"Runs folder: `{runs_root()}`")
    return run
