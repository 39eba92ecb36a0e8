"""Sweeps page: ask for a grid of runs (method x embedding size x augmentation strength or q x seed),
watch it train in the background (one run at a time, other work in between, resumed after an app
restart), and read its lines: a probe's accuracy against one axis, one line per method, the spread over
seeds as a band; its table of runs has the papers' run scores (M1, M2) beside kNN and linear accuracy. What a
sweep is and costs: lab.sweep; its numbers: lab.sweep.report."""

import pandas as pd
import streamlit as st

from lab.core.config import default_epochs
from lab.core.data import get_dataset_spec
from lab.core.methods import all_methods
from lab.papers import paper_run_scores
from lab.store.export import rows_csv
from lab.store.runs import RunStore
from lab.sweep.background import cancel_sweep
from lab.sweep.grid import AXES, Sweep, check_budget, plan, realised_configs, stored_sweeps
from lab.sweep.report import lines, measure_names, pixel_value, scores_to_compute, sweep_rows
from lab.view import figures
from lab.view.sweep_figures import lines_figure
from pages.ui import state
from pages.ui.progress import ensure_results

state.require_app()

st.title("Sweeps")
st.caption("A grid of runs trained in the background, one after another, each stored like any run (the Map, Probes "
           "and Compare pages read them, and their sliders move along the sweep's axes). Stored runs are reused, so "
           "asking again resumes a sweep; one stopped by an app restart resumes by itself. The same grid from a "
           "terminal, or on a Ray cluster: `python -m lab sweep --over embedding_size=2,8,32,128 ... [--ray ADDRESS]`.")  # fmt: skip

store, mgr = RunStore(state.runs_root()), state.manager()
methods = all_methods()
SIZES = (2, 4, 8, 16, 32, 64, 128, 256, 512)

with st.expander("New sweep", expanded=not stored_sweeps(store), icon=":material/add:"):
    c1, c2, c3, c4 = st.columns(4)
    data_choices = state.available_datasets()
    dataset = c1.selectbox(
        "Dataset", data_choices, index=data_choices.index(state.default_dataset()), key="sw_dataset"
    )
    subset = c2.number_input("Training images (0 = all)", 0, 60_000, 10_000 if dataset != "digits" else 0, step=1000,
                             key=f"sw_subset-{dataset}")  # fmt: skip
    epochs = c3.number_input("Epochs", 0.1, 50.0, float(default_epochs("simclr", dataset)), step=0.5,
                             key=f"sw_epochs-{dataset}",
                             help=f"Every run of the sweep trains this many epochs, whatever its method, so that "
                                  f"methods compare at equal training. A single run's default here is "
                                  f"{default_epochs('simclr', dataset):g} for SimCLR and "
                                  f"{default_epochs('supervised', dataset):g} for supervised.")  # fmt: skip
    budget = c4.number_input("Budget, minutes", 1, 24 * 60, 15, key="sw_budget",
                             help="A sweep whose estimate is longer is refused before anything trains.")  # fmt: skip
    c1, c2 = st.columns(2)
    chosen_methods = c1.multiselect("Methods", list(methods), ["simclr", "supcon", "joint"], key="sw_methods")
    sizes = c2.multiselect("Embedding sizes p", SIZES, [2, 8, 32, 128], key="sw_sizes")
    has_q = "q" in {param.name for param in get_dataset_spec(dataset).params}
    c1, c2, c3 = st.columns([1, 2, 1])
    second = c1.radio("Also vary", ["nothing", "augmentation strength s"] + (["q"] if has_q else []), key="sw_second",
                      help="q (digit-on-fashion-mnist): probability that view 2 gets another digit.")  # fmt: skip
    extra_axis = {}
    if second == "augmentation strength s":
        extra_axis["aug_strength"] = c2.multiselect("Strengths", [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], [0.2, 0.6, 1.0],
                                                    key="sw_strengths")  # fmt: skip
    elif second == "q":
        extra_axis["q"] = c2.multiselect(
            "q values", [0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.5, 1.0], key="sw_qs"
        )
    seeds = c3.number_input(
        "Seeds", 1, 10, 1, key="sw_seeds", help="Each point's runs differ by seed; the band is their spread."
    )
    base = {"dataset": dataset, "subset": int(subset) or None, "epochs": float(epochs)}
    axes = {
        "method": chosen_methods,
        "embedding_size": sorted(sizes),
        **extra_axis,
        "seed": list(range(int(seeds))),
    }
    try:
        sweep = Sweep(base, {k: v for k, v in axes.items() if v})
        p = plan(sweep, store)
    except ValueError as exc:
        st.error(f"This sweep cannot run: {exc}", icon=":material/error:")
        sweep = p = None
    if p is not None:
        left = len(p.configs) - len(p.stored)
        st.markdown(f"**{len(p.configs)} runs** ({len(p.stored)} already stored, {left} to train): about "
                    f"**{p.seconds / 60:.1f} minutes** here, estimated from this machine's stored runs.")  # fmt: skip
        refusal = None
        try:
            check_budget(p, float(budget))
        except ValueError as exc:
            refusal = str(exc)
            st.error(refusal, icon=":material/timer_off:")
        if st.button("Start the sweep", type="primary", icon=":material/play_arrow:", disabled=refusal is not None or left == 0,
                     key="sw_start"):  # fmt: skip
            mgr.submit_sweep(sweep)
            st.session_state["sw_show"] = sweep.id

sweeps = stored_sweeps(store)
if not sweeps:
    st.info("No sweep yet: choose its axes above and start it.", icon=":material/info:")
    st.stop()


def describe(sw: Sweep, doc: dict) -> str:
    axes = " × ".join(f"{AXES.get(k, k)} ({len(v)})" for k, v in sw.axes.items() if len(v) > 1) or "one run"
    return f"{sw.base.get('dataset', '?')}: {axes} · {doc.get('state', '?')}"


ids = [sw.id for sw, _ in sweeps]
show = st.session_state.get("sw_show")
pick = st.selectbox("Sweep", range(len(sweeps)), index=ids.index(show) if show in ids else 0,
                    format_func=lambda i: describe(*sweeps[i]), key="sw_pick")  # fmt: skip
sweep, doc = sweeps[pick]
configs = sweep.configs()


@st.fragment(run_every=2.0)
def sweep_status() -> None:
    job = mgr.job(f"sweep/{sweep.id}")
    stored = sum(c is not None and store.path(c).is_dir() for c in realised_configs(sweep, store))
    if st.session_state.get("sw_seen", {}).get(sweep.id, stored) != stored:
        st.session_state.setdefault("sw_seen", {})[sweep.id] = stored
        st.rerun()  # a run arrived: redraw the lines
    st.session_state.setdefault("sw_seen", {})[sweep.id] = stored
    if job is not None and job.state == "failed":
        st.error(f"The sweep stopped: {job.error}", icon=":material/error:")
    if job is not None and job.active:
        c1, c2 = st.columns([5, 1])
        c1.progress(job.fraction or stored / len(configs), text=job.message)
        if c2.button("Stop", icon=":material/stop:", key="sw_stop"):
            cancel_sweep(mgr, job)
            st.rerun()
    elif stored < len(configs):
        c1, c2 = st.columns([5, 1])
        c1.caption(f"{stored} of {len(configs)} runs stored; this sweep is {doc.get('state', 'stopped')}.")
        if c2.button("Resume", icon=":material/play_arrow:", key="sw_resume"):
            mgr.submit_sweep(sweep)
            st.rerun()
    else:
        st.caption(f"All {len(configs)} runs stored.")


def runs_table(rows: list[dict]) -> None:
    """Every run of the sweep: its axes and scores, the papers' run scores under their tagged labels ("—"
    where not defined on this dataset, or not computed yet), each header's tooltip saying what it is."""
    columns = [c for scores in paper_run_scores() for c in scores.columns]
    table = pd.DataFrame(rows)
    for c in columns:  # as text: a number column shows a missing value as "None"
        table[c.key] = [f"{v:.3f}" if v is not None and v == v else "—" for v in table[c.key]]
    table = table.rename(columns={c.key: c.label for c in columns})
    config = {c.label: st.column_config.TextColumn(c.label, help=c.help) for c in columns}
    st.dataframe(table, hide_index=True, column_config=config, key="sw_table")
    for scores in paper_run_scores():
        why = scores.undefined(sweep.base.get("dataset", ""))
        st.caption(scores.note + (f" Here {why}: it reads —." if why else ""))


sweep_status()
rows = sweep_rows(sweep, store)
if not rows:
    st.stop()
ensure_results([(s.job_kind, run, f"{s.title} of {'the pixels' if params else run.config.method}", params)
                for s, run, params in scores_to_compute(rows, store)],
               " and ".join(s.title for s in paper_run_scores()) + " of the sweep's runs and their pixels")  # fmt: skip
names = measure_names(rows)
varied = [a for a in sweep.varied if a not in ("method", "seed")]
c1, c2, c3 = st.columns(3)
measure = c1.selectbox("Measure", list(names), format_func=names.get, key="sw_measure",
                       index=next((i for i, k in enumerate(names) if k.startswith("probe:")), 0))  # fmt: skip
if not varied:
    st.info("This sweep varies only the method or the seed: there is no axis to draw lines along.")
    runs_table(rows)
    st.stop()
x = c2.selectbox("Along", varied, format_func=lambda a: AXES.get(a, a), key="sw_x")
shown = rows
others = [a for a in varied if a != x]
for a in others:  # one value of each other axis
    values = sorted({r[a] for r in rows})
    v = c3.select_slider(f"at {AXES.get(a, a)}", values, value=values[0], key=f"sw_at-{a}")
    shown = [r for r in shown if r[a] == v]
by = "method" if "method" in sweep.axes else None
fig = lines_figure(lines(shown, x, measure, by), AXES.get(x, x), names[measure], log_x=x == "embedding_size",
                   baseline=pixel_value(sweep, store, measure))  # fmt: skip
st.plotly_chart(figures.chart(fig), key="sw_lines", theme=None)
n_seeds = len(sweep.axes.get("seed", [0]))
st.caption(f"Each point: the mean over {n_seeds} seed{'s' if n_seeds > 1 else ''}"
           + (", the band their range (min to max)" if n_seeds > 1 else "") + f". {len(rows)} of {len(configs)} runs "
           "stored. Probes: linear, on the test images (docs/science.md, \"Probes per label set\"). The dotted line is "
           "raw pixels (PCA-64) on the same images.")  # fmt: skip
with st.expander("Every run of the sweep"):
    runs_table(rows)
    st.download_button(
        "Sweep table (.csv)", rows_csv(rows), f"sweep-{sweep.id}.csv", "text/csv", on_click="ignore"
    )
