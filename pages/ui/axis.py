"""Sliders over stored runs: when stored runs differ from the selected one along one axis only (a sweep),
a slider along that axis makes another of them the selected run, so that the page redraws from it."""

from __future__ import annotations

import streamlit as st

from lab.view.siblings import SLIDER_AXES, sibling_axes
from pages.ui import state


def _swap(key: str, ids: dict, old: str) -> None:
    new = ids[st.session_state[key]]
    st.session_state["run_picker"] = new
    picked = st.session_state.get("probe_runs")
    if isinstance(picked, list) and old in picked:  # the Probes page's run list follows the slider
        st.session_state["probe_runs"] = list(dict.fromkeys(new if r == old else r for r in picked))


def axis_sliders(run, page: str) -> None:
    """A select_slider per axis along which stored runs differ from `run` only; moving one swaps the run."""
    axes = sibling_axes(run, state.list_runs())
    if not axes:
        return
    with st.container(border=True):
        for axis, pairs in axes.items():
            ids = dict(pairs)
            key = f"{page}_axis_{axis}"
            st.session_state[key] = run.config.to_dict()[axis]  # the slider shows the selected run's value
            st.select_slider(f"{SLIDER_AXES[axis]}: stored runs", [v for v, _ in pairs], key=key,
                             on_change=_swap, args=(key, ids, run.id),
                             help="Runs equal to the selected one in everything but this (a sweep's runs). "
                                  "Moving the slider selects another of them; the whole page follows.")  # fmt: skip
        n = sum(len(p) for p in axes.values()) - len(axes) + 1
        named = " or ".join(SLIDER_AXES[a].lower() for a in axes)
        st.caption(
            f"{n} stored runs (this one among them) differ only in {named}: slide to swap between them."
        )
