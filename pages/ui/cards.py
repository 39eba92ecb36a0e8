"""Result cards: a run's accuracies, each beside what raw pixels (PCA-64) reach."""

from __future__ import annotations

import streamlit as st

from lab.measures.probes.knn import KNN_K


def acc(metrics: dict, key: str) -> str:
    """An accuracy as a percentage, or 'scoring...' while it is computed after the map."""
    value = metrics.get(key)
    return f"{value:.1%}" if value is not None else "scoring..."


def metric_cards(run) -> None:
    """kNN and linear accuracy of the run, each beside what raw pixels (PCA-64) reach."""
    m, px = run.metrics, run.metrics.get("pixels", {})
    pk, pl = px.get("knn_acc"), px.get("linear_acc")

    def delta(v, base):
        return None if base is None or v is None else f"{100 * (v - base):+.1f} pts vs pixels"

    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"kNN accuracy (k={KNN_K}, h)", acc(m, "knn_acc"), delta(m.get("knn_acc"), pk), border=True)
    c2.metric("Linear probe (h)", acc(m, "linear_acc"), delta(m.get("linear_acc"), pl), border=True)
    c3.metric(f"kNN accuracy (k={KNN_K}, z)", acc(m, "knn_acc_projector"), delta(m.get("knn_acc_projector"), pk),
              border=True)  # fmt: skip
    c4.metric("Pixels (PCA-64)", f"{pk:.1%}" if pk is not None else "—",
              f"linear {pl:.1%}" if pl is not None else None, delta_color="off", border=True)  # fmt: skip
    st.caption(
        f"Test-set accuracy of {m.get('n_test', '?'):,} images; h = backbone features, z = projector "
        f"embeddings. The raw-pixel baseline (PCA to 64 dimensions, same split) is what a model must beat "
        f"to have learned anything pixels do not already give. Trained in {m.get('train_seconds', '?')} s "
        f"at {m.get('images_per_s', 0):,.0f} images/s on {m.get('device', '?')}."
    )
    if (verdict := pixel_verdict(m)) is not None:
        st.markdown(verdict)


def pixel_verdict(m: dict) -> str | None:
    """One plain sentence when the run's kNN accuracy on h is below the pixels' (None otherwise)."""
    knn, px = m.get("knn_acc"), (m.get("pixels") or {}).get("knn_acc")
    if knn is None or px is None or knn >= px:
        return None
    linear, px_linear = m.get("linear_acc"), (m.get("pixels") or {}).get("linear_acc")
    tail = (
        f" Its linear probe does beat them ({linear:.1%} against {px_linear:.1%})."
        if linear is not None and px_linear is not None and linear > px_linear
        else ""
    )
    return (
        f"**On kNN this run is below the raw pixels** ({knn:.1%} against {px:.1%}): this much training has "
        f"not yet learned a neighbourhood that pixels do not already give.{tail}"
    )
