"""Tilting: theory page. Linear encoders trained on Gaussian pairs with each contrastive loss, beside the
closed forms of Baptista, Stuart & Tran 2025: the low-rank playground, the sweeps (one line per loss) and
the 2-D example. Every number comes from lab.papers.tilting2025; the trainings run in the worker and are
cached under the runs folder, so an earlier slider setting comes back at once."""

import dataclasses

import streamlit as st

from lab.papers.tilting2025 import figures, jobs, results
from lab.papers.tilting2025.constants import (
    BATCH,
    CITE,
    EXAMPLE_COV,
    EXAMPLE_TRUE_SLOPE,
    EXAMPLE_TRUE_VAR,
    KEY,
    LOSSES,
    STEPS,
    TILTS,
)
from lab.papers.tilting2025.simulation import LOSS_EVERY, SimulationConfig
from lab.worker.manager import job_key
from pages.ui import state
from pages.ui.progress import ensure_result
from pages.ui.reports import stored_report

state.require_app()  # a page opened by its URL right after the server started

BATCHES = (1, 2, 8, 32, 128, 256, 512, 1024)
SAMPLES = (256, 512, 1024, 2048, 4096, 8192, 16384, None)
CONDITIONAL_NOTES = {
    (
        "bilinear",
        "conditional",
    ): "Closed form [D]: the conditional means are exact; the conditional covariances "
    "are the marginals (too wide).",
    (
        "bilinear",
        "joint",
    ): "Closed form [D]: each canonical correlation σ becomes h(σ) = (√(1+4σ²) − 1)/(2σ) < σ: "
    "the conditional means shrink by h(σ)/σ.",
    (
        "quadratic",
        "conditional",
    ): "Closed form [D]: once n_e reaches the shared rank, the conditional the loss "
    "names is matched exactly, mean and covariance (a one-sided loss leaves the other one unfitted).",
    ("quadratic", "joint"): "Closed form [D]: once n_e reaches the shared rank, the model equals μ: both "
    "conditionals are exact.",
}

st.title("Contrastive learning as exponential tilting")
st.caption(f"After {CITE} (no code published). **[P]** the paper's · **[D]** derived from it and checked "
           "numerically · **[L]** the lab's design. docs/science.md explains every number.")  # fmt: skip
st.markdown(
    "The model [P]: pairs (u, v) ~ μ are explained by tilting the product of their marginals by the encoders' "
    "similarity, ν(du, dv) ∝ exp(s(u, v)) μ_u(du) μ_v(dv). Each loss fits a different part of ν to μ: the "
    "two-sided (CLIP) loss both conditionals, a one-sided loss only the one it names, the joint loss the whole "
    "joint. With Gaussian pairs and linear encoders the minimisers have closed forms [D]; below, Adam on fresh "
    "batches is checked against them."
)


def choose_settings() -> SimulationConfig | None:
    """The sliders; None (with a message, nothing trained) when they describe no valid simulation."""
    a, b, c = st.columns(3)
    d_u = a.slider("d_u (dimension of u)", 1, 20, 12, key="tilt_du")
    d_v = a.slider("d_v (dimension of v)", 1, 12, 5, key="tilt_dv")
    rank = a.slider(
        "shared rank", 1, 8, 3, key="tilt_rank", help="w ~ N(0, I_rank); u = Pw + ε_u, v = Qw + ε_v"
    )
    noise = b.slider("noise (sd of ε)", 0.0, 2.0, 1.0, 0.1, key="tilt_noise")
    n_e = b.slider("n_e (encoder output dimension)", 1, 8, 3, key="tilt_ne")
    batch = b.select_slider("batch N", BATCHES, BATCH, key="tilt_batch")
    sample = c.select_slider("sample size", SAMPLES, None, key="tilt_sample",
                             format_func=lambda n: "∞ (fresh every step)" if n is None else f"{n:,}")  # fmt: skip
    loss = c.radio("loss", list(LOSSES), format_func=LOSSES.get, key="tilt_loss")
    tilt = c.radio("tilt", list(TILTS), format_func=TILTS.get, key="tilt_tilt")
    try:
        return SimulationConfig(d_u=d_u, d_v=d_v, rank=rank, noise=noise, n_e=n_e, batch=batch,
                                sample_size=sample, loss=loss, tilt=tilt)  # fmt: skip
    except ValueError as exc:
        st.error(f"{exc} Nothing was trained.", icon=":material/error:")
        return None


def ask(stored, kind: str, title: str, params: dict, slot: str):
    """ensure_result for a job on settings; a job this session queued for earlier settings and not yet
    started is dropped (the sliders moved on)."""
    key = job_key(kind, jobs.SETTINGS.id, "backbone", params)
    old = st.session_state.get(slot)
    if old and old != key and (job := state.manager().job(old)) is not None and job.state == "queued":
        job.cancel()
    st.session_state[slot] = None if stored is not None else key
    return ensure_result(stored, kind, jobs.SETTINGS, title, params=params)


def show_result(cfg: SimulationConfig, r: dict) -> None:
    side = "v|u" if cfg.loss == "v|u" else "u|v"
    err, best = r["errors"][side], (r["closed_form_errors"] or {}).get(side)

    def delta(x, y):
        return None if x is None or y is None else f"{x - y:+.4f} vs closed form"

    m = st.columns(5)
    m[0].metric(
        "Largest principal angle",
        f"{r['angle']:.2f}°",
        help=f"to the top {r['rank']} canonical directions [L]",
    )
    m[1].metric(f"{side} mean error", f"{err['mean']:.4f}" if err["mean"] is not None else "—",
                delta(err["mean"], best and best["mean"]), delta_color="off")  # fmt: skip
    m[2].metric(f"{side} covariance error", f"{err['cov']:.4f}" if err["cov"] is not None else "—",
                delta(err["cov"], best and best["cov"]), delta_color="off")  # fmt: skip
    bias = r["spectrum_bias"]
    m[3].metric("Spectrum vs closed form", f"{bias:+.2%}" if bias is not None else "no closed form",
                help="mean relative deviation of the learned canonical spectrum from the closed form's: the "
                "finite-batch bias when the sample is fresh")  # fmt: skip
    m[4].metric("Training", f"{r['seconds']:.1f} s", help=f"{cfg.steps:,} Adam steps, one CPU thread")
    kind = "joint" if cfg.loss == "joint" else "conditional"
    st.caption(
        CONDITIONAL_NOTES[(cfg.tilt, kind)] + " Errors are relative; the mean's is averaged over μ [L]."
    )
    left, right = st.columns(2)
    left.plotly_chart(figures.spectrum_figure(r), theme=None, key="tilt_spectrum")
    right.plotly_chart(figures.loss_curve_figure(r, LOSS_EVERY), theme=None, key="tilt_curve")


def sweeps(cfg: SimulationConfig, seconds: float) -> None:
    st.subheader("Sweeps: one line per loss")
    axis = st.segmented_control("against", list(results.SWEEPS), default="batch", key="tilt_axis",
                                format_func=lambda a: results.SWEEPS[a][0]) or "batch"  # fmt: skip
    side = st.segmented_control("conditional", ["u|v", "v|u"], default="u|v", key="tilt_side") or "u|v"
    rows = results.stored_sweep(cfg, axis, state.runs_root())
    missing = results.missing_points(cfg, axis, state.runs_root())
    params = {**dataclasses.asdict(cfg), "axis": axis}
    if rows is None and not st.session_state.get(f"tilt_go_{cfg.key()}_{axis}"):
        cost = sum((c.effective_batch / BATCH) ** 2 * seconds for c in missing)
        st.info(f"{len(missing)} of the sweep's points are not trained yet: about {cost:.0f} s on one core "
                "(estimated from this page's run), stored once for these settings.", icon=":material/schedule:")  # fmt: skip
        if st.button(
            f"Train the sweep over {results.SWEEPS[axis][0]}", key="tilt_go", icon=":material/play_arrow:"
        ):
            st.session_state[f"tilt_go_{cfg.key()}_{axis}"] = True
            st.rerun()
        return
    rows = ask(rows, jobs.SWEEP, f"sweep over {results.SWEEPS[axis][0]}", params, "tilt_sweep_job")
    if rows is not None:
        st.plotly_chart(
            figures.sweep_figure(rows, results.SWEEPS[axis][0], side), theme=None, key="tilt_sweep"
        )
        st.caption(f"Dotted: the closed form's {side} mean error. Every point: the same {cfg.tilt} tilt and "
                   f"settings as above, {cfg.steps:,} Adam steps, seed {cfg.seed}; fresh samples unless the sample "
                   "size is swept. Another seed moves the spectrum's deviation by about as much as neighbouring "
                   "batch sizes differ: the reproduction (below) averages several seeds.")  # fmt: skip


def example() -> None:
    st.subheader("The 2-D example [D]")
    st.caption(f"C = {[list(r) for r in EXAMPLE_COV]} (canonical correlation 2/3), n_e = 1, fresh batches of "
               f"{BATCH}, {STEPS:,} Adam steps. Black: the true u|v = N({EXAMPLE_TRUE_SLOPE:.3f} v, "
               f"{EXAMPLE_TRUE_VAR:.3f}), dotted ± 1 sd. Dashed: each loss's model mean of u|v in closed form; "
               "solid, with its ± 1 sd band: as trained. Grey dots: samples of μ.")  # fmt: skip
    stored = results.stored_example(state.runs_root())
    if len(stored) < len(results.EXAMPLE_RUNS):
        ask(None, jobs.EXAMPLE, "the 2-D example (8 trainings)", {}, "tilt_example_job")
    tilt = (
        st.segmented_control("tilt of the example", list(TILTS), default="bilinear", key="tilt_example_tilt")
        or "bilinear"
    )
    panels = results.example_conditionals(stored)
    st.plotly_chart(figures.example_figure(panels, tilt), theme=None, key="tilt_example")
    table = [{"loss": p["loss"], "u|v slope: closed form": p["closed_slope"], "u|v slope: trained": p["trained_slope"],
              "u|v variance: closed form": p["closed_var"], "u|v variance: trained": p["trained_var"],
              "marginal variance of u: trained": stored.get((p["loss"], tilt), {}).get("marginal_u")}
             for p in panels if p["tilt"] == tilt]  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch")


st.subheader("Playground: low-rank Gaussian pairs")
cfg = choose_settings()
if cfg is not None:
    result = ask(results.stored_simulation(cfg, state.runs_root()), jobs.SIMULATION,
                 f"{cfg.loss} loss, {cfg.tilt} tilt, n_e = {cfg.n_e}", dataclasses.asdict(cfg), "tilt_job")  # fmt: skip
    if result is not None:
        show_result(cfg, result)
        st.divider()
        sweeps(cfg, result["seconds"])
st.divider()
example()
st.divider()
stored_report(KEY)
