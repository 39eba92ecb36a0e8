"""Linear toys (Xue et al. 2023): class collapse under the supervised spectral loss as gradient descent
runs, and feature suppression against the embedding size and the augmentation. Every number comes from
lab.papers.xue2023.toys / toys_fs, trained in the background worker and cached under the runs folder, so
an earlier slider setting comes back at once."""

import dataclasses

import streamlit as st

from lab.papers.xue2023.constants import CITE
from lab.papers.xue2023.toy_figures import (
    cc_curve_figure,
    cc_loss_name,
    cc_scatter_figure,
    fs_p_figure,
    fs_q_figure,
)
from lab.papers.xue2023.toy_jobs import TOY_CC, TOY_FS, TOYS
from lab.papers.xue2023.toys import CC_LOSSES, CCConfig, cc_summary, stored_cc
from lab.papers.xue2023.toys_fs import HARD, N_ZEROS, FSConfig, default_p, p_grid, stored_fs
from lab.worker.manager import job_key
from pages.ui import state
from pages.ui.charts import plotly_config
from pages.ui.progress import ensure_result

state.require_app()  # a page opened by its URL right after the server started

SPEC_FS = ((1, 1000), (32, 1000), (128, 64))  # (k_e, n) the spec measured
K_E = (1, 2, 4, 8, 16, 32, 64, 128)
N = (16, 32, 64, 128, 256, 512, 1000, 2000)
Q = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)

st.title("Simplicity bias: linear toys")
st.caption(f"After {CITE} (no code published). **[P]** the paper's claim · **[D]** derived from it and checked "
           "numerically (the spec's measured values) · **[L]** the lab's design. docs/science.md, \"Xue 2023\" "
           "(the linear toys), explains every number.")  # fmt: skip
st.markdown(
    "The paper's model [P]: a linear encoder f(x) = Wx trained by gradient descent on the *spectral* contrastive "
    "loss, L = −2 E[f(a)ᵀf(a′)] + E[(f(a)ᵀf(a″))²], with a, a′ two views of one example and a″ a view of another. "
    "In **L_UCL** (unsupervised) the positive a′ is the same example's other view; in **L_SCL** (supervised) any "
    "example of the same class. The **joint** loss is the lab's weighting α·L_SCL + (1 − α)·L_UCL [P, weighting L]. "
    "The toys' data are the lab's constructions after the paper's model [L]; full-batch gradient descent, one thread."
)


def ask(stored, kind: str, title: str, params: dict, slot: str):
    """ensure_result for a toy job; a job this session queued for earlier settings and not yet started is
    dropped (the sliders moved on)."""
    key = job_key(kind, TOYS.id, "backbone", params)
    old = st.session_state.get(slot)
    if old and old != key and (job := state.manager().job(old)) is not None and job.state == "queued":
        job.cancel()
    st.session_state[slot] = None if stored is not None else key
    return ensure_result(stored, kind, TOYS, title, params=params)


# ---------------------------------------------------------------- class collapse
def cc_panel() -> None:
    st.subheader("Class collapse: subclasses learned, then unlearned [P: C1, C2, C5]")
    st.markdown(
        "Two classes y = ±1, each of two subclasses y_sub = ±1: **x = y·(e1 + b·e2) + y_sub·e2 + ξ**, ξ Gaussian "
        "noise of norm ≈ 4 on the other 510 of d = 512 coordinates, 200 training and 1,000 fresh test points; "
        "p = 3, W starts at rows of norm 10⁻⁴, lr 0.01, 3,000 steps [L]. The tilt **b** is the spec's construction "
        "[L]: it lets the class label carry some of e2, so that the supervised loss has a gradient along the "
        "subclass axis. Every 50 steps, a within-class probe (logistic regression, C = 1, on the embeddings "
        "centred and scaled by one global factor) is fitted on the training points of each class and scored on "
        "the test points [L]."
    )
    a, b, c = st.columns(3)
    tilt = a.slider(
        "tilt b", 0.0, 1.5, 0.5, 0.1, key="xt_b", help="0: the class label carries nothing along e2"
    )
    alpha = b.slider("α of the joint loss", 0.0, 1.0, 0.5, 0.05, key="xt_cc_alpha", help="0 is UCL, 1 is SCL")
    seed = c.selectbox("seed", [0, 1, 2, 3, 4], key="xt_cc_seed", help="the data and W's initialisation")
    cfg = CCConfig(b=tilt, alpha=alpha, seed=seed)
    spec = cfg.b == 0.5 and cfg.alpha == 0.5
    st.caption("**b = 0.5, α = 0.5: the spec's measured settings** (its points are the crosses)." if spec else
               "The spec measured b = 0.5 and α = 0.5; these settings are the lab's own.")  # fmt: skip
    if tilt == 0:
        st.info("**b = 0: nothing to collapse.** The class label carries nothing along e2, so L_SCL gets no "
                "gradient on the subclass axis: SCL never learns the subclasses, and its curve only falls from "
                "what the random start happened to separate to chance. UCL and the joint loss still learn them.",
                icon=":material/info:")  # fmt: skip
    result = ask(stored_cc(cfg, state.runs_root()), TOY_CC, f"CC toy at b = {tilt:g}, α = {alpha:g}",
                 dataclasses.asdict(cfg), "xt_cc_job")  # fmt: skip
    if result is None:
        return
    st.plotly_chart(cc_curve_figure(result, spec=spec), theme=None, key="xt_cc_curve")
    summary = cc_summary(result)
    cols = st.columns(3)
    for col, name in zip(cols, CC_LOSSES, strict=True):
        s = summary[name]
        col.metric(f"{cc_loss_name(name, alpha)}: final", f"{s['final']:.2f}",
                   f"peak {s['peak']:.2f} at step {s['peak_step']:,}; lowest after it {s['dip']:.2f} at "
                   f"{s['dip_step']:,}", delta_color="off", delta_arrow="off", border=True)  # fmt: skip
    st.caption(f"Measured here: SCL's collapse drop (peak − final) is {summary['SCL']['drop']:.2f}; the joint "
               f"loss ends at {summary['joint']['final']:.2f}. The spec measured SCL 1.00 at steps 50–150, .69 at "
               "250 and .50 from 1,000 on, the joint loss dipping to ≈ .87 near step 300 and back to 1.00, UCL "
               f"at 1.00 throughout [D]. Trained and probed in {result.seconds:.1f} s (one thread).")  # fmt: skip
    shown = st.segmented_control("Scatter of", list(CC_LOSSES), default="SCL", key="xt_cc_scatter",
                                 format_func=lambda n: cc_loss_name(n, alpha)) or "SCL"  # fmt: skip
    st.plotly_chart(cc_scatter_figure(result, shown), theme=None, key="xt_cc_3d", config=plotly_config())
    st.caption("The 200 training points' embeddings f(x) = Wx (p = 3) at four moments, centred and scaled as the "
               "probe sees them: blue and orange are the classes, light and dark their subclasses. Under SCL "
               "each class's two subclasses first lie apart, then merge; drag to rotate.")  # fmt: skip


# ---------------------------------------------------------------- feature suppression
def fs_settings() -> tuple[int, int, float, float, int]:
    a, b, c, d, e = st.columns(5)
    k_e = a.select_slider("easy dimensions k_e", K_E, 32, key="xt_ke")
    n = b.select_slider("training examples n", N, 1000, key="xt_n", format_func=lambda v: f"{v:,}")
    q = c.select_slider("q of the extra line", Q, 0.5, key="xt_q",
                        help="A third line against p: UCL when view 2 redraws the easy feature with this chance "
                             "(0: no extra line)")  # fmt: skip
    alpha = d.slider("α of the joint line", 0.0, 1.0, 0.5, 0.05, key="xt_fs_alpha")
    grid = p_grid(FSConfig(k_e=k_e))
    p = e.select_slider("p of the line against q", grid, min(grid, key=lambda v: abs(v - default_p(k_e))),
                        key=f"xt_p_{k_e}")  # fmt: skip
    return k_e, n, q, alpha, p


def fs_panel() -> None:
    st.subheader("Feature suppression: the easy feature crowds out the relevant one [P: C3, C4, C5]")
    st.markdown(
        f"**x = [3·z_easy (k_e dims), y·μ ({len(HARD)} dims, the hard, relevant feature), {N_ZEROS} zeros] + "
        "N(0, 0.3²)**, z_easy ~ N(0, I), y = ±1, μ of norm 1; each view adds N(0, 0.5²), and view 2 redraws "
        "z_easy with chance q. W is trained by gradient descent on the loss's expectation over the augmentations "
        "(exact, in closed form [D]), lr 0.01 (lowered where it would diverge) for 3,000 steps; then a logistic "
        "probe reads y off the embeddings of 1,000 fresh points and is scored on 1,000 others [L]."
    )
    k_e, n, q, alpha, p = fs_settings()
    if (k_e, n) in SPEC_FS:
        st.caption(f"**k_e = {k_e}, n = {n:,}: one of the spec's measured settings** (with (1, 1,000), (32, 1,000) "
                   "and (128, 64)).")  # fmt: skip
    else:
        st.caption(
            "The spec measured (k_e, n) = (1, 1,000), (32, 1,000) and (128, 64); these settings are the lab's own."
        )
    if n < k_e:
        st.info(f"**n < k_e: fewer training examples ({n}) than easy dimensions ({k_e}).** The easy feature alone "
                "tells every training example apart, so the loss has no use for the relevant one: suppression "
                "persists at every p, up to p = d, and the joint loss does not help; only augmentation that breaks "
                "the easy feature (q) does [D: the spec measured .52 up to p = d at n = 64, k_e = 128; q = 1 → .99].",
                icon=":material/info:")  # fmt: skip
    if k_e >= 64:
        st.caption(f"k_e = {k_e} trains models up to p = d = {k_e + 20}: a line can take several seconds, the "
                   "line at q > 0 the longest (its models train on all d coordinates).")  # fmt: skip
    root, base = state.runs_root(), dict(k_e=k_e, n=n)
    wanted = [FSConfig(**base, axis="p"), FSConfig(**base, axis="p", alpha=alpha)]
    wanted += [FSConfig(**base, axis="p", q=q)] if q > 0 else []
    lines = [ask(stored_fs(cfg, root), TOY_FS, f"FS toy: {cfg.label}, k_e = {k_e}, n = {n:,}", dataclasses.asdict(cfg),
                 f"xt_fs_job_{i}") for i, cfg in enumerate(dict.fromkeys(wanted))]  # fmt: skip
    left, right = st.columns(2)
    if all(line is not None for line in lines):
        left.plotly_chart(fs_p_figure(lines, k_e), theme=None, key="xt_fs_p")
    q_cfg = FSConfig(**base, axis="q", p=p)
    with right:
        q_line = ask(stored_fs(q_cfg, root), TOY_FS, f"FS toy: {q_cfg.label}, k_e = {k_e}, n = {n:,}",
                     dataclasses.asdict(q_cfg), "xt_fs_job_q")  # fmt: skip
    if q_line is not None:
        right.plotly_chart(fs_q_figure(q_line), theme=None, key="xt_fs_q")
    done = [line for line in [*lines, q_line] if line is not None]
    if done:
        st.caption("The spec measured [D]: k_e = 1 → .50 at p = 1, 1.0 from p = 2; k_e = 32 (n = 1,000) → ≈ .5 until "
                   "p > k_e, then 1.0; any q ≥ 0.5 → 1.0 at every p; the joint loss fixes suppression at n = 1,000 "
                   "but not at n = 64. Each line here: " + ", ".join(f"{line.config.label} {line.seconds:.1f} s"
                   for line in done) + " (one thread).")  # fmt: skip


cc_panel()
st.divider()
fs_panel()
