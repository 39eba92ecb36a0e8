"""Semantic-pairs page: a SePP run's mined partners (sampler, pair precision, coverage, examples), how good
the selected run and the pixels would be as samplers, and the stored reproduction of SePP. Numbers come
from lab.papers.sepp2023, computed by the worker or recorded by the run."""

import pandas as pd
import streamlit as st

from lab.papers.sepp2023 import analysis, jobs
from lab.papers.sepp2023.constants import CITE, KEY, SAMPLER_TEXT
from lab.store.baselines import PIXELS_NAME, pixel_baseline_of
from lab.view.labels import run_label
from lab.view.thumbnails import FRAME_OTHER, FRAME_SAME, thumbnail
from pages.ui import state
from pages.ui.images import image_grid
from pages.ui.progress import ensure_result
from pages.ui.reports import stored_report

state.require_app()  # a page opened by its URL right after the server started

st.title("Semantic positive pairs")
st.caption(
    f"After {CITE}. Each training image's nearest neighbours under a *sampler* (an encoder trained without labels, "
    "or the pixels), mined once from un-augmented images, become extra positives beside its augmented twin "
    "**[P idea]**; top-k cosine partners, a threshold given as a quantile of the top-k cosines, an optional "
    "mutual-neighbour filter, and the add/replace modes are the lab's **[L]**. Pair precision (the share of pairs "
    "with equal labels) uses the labels for display only."
)

run = state.current_run()
if run is None:
    st.info("This page needs a trained model. Train one on the Train page.", icon=":material/info:")
    stored_report(KEY)
    st.stop()

root, names = state.runs_root(), state.class_names(run.config.dataset)
own = run.metrics.get("method", {})
if "pair_precision" in own:
    st.subheader(f"The pairs {run_label(run, score=False)} trained with")
    a, b, c, d = st.columns(4)
    a.metric("Sampler", own["sampler"], own.get("sampler_run") or "", delta_color="off", delta_arrow="off",
             help=SAMPLER_TEXT.get(own["sampler"], ""))  # fmt: skip
    b.metric("Pair precision", f"{own['pair_precision']:.1%}", f"chance {1 / len(names):.0%}", delta_color="off",
             delta_arrow="off")  # fmt: skip
    c.metric("Coverage", f"{own['coverage']:.1%}", help="Share of training images with at least one partner.")
    d.metric("Partners per image", f"{own['mean_partners']:.2f}",
             f"mined in {own.get('features_seconds', 0) + own.get('mining_seconds', 0):.1f} s", delta_color="off",
             delta_arrow="off")  # fmt: skip
    images = state.run_images(root, run.id)
    cells = []
    for i, j in own.get("pairs_sample", [])[:32]:
        same = run.labels[i] == run.labels[j]
        pair = (
            thumbnail(images[i], 3, frame=FRAME_SAME),
            thumbnail(images[j], 3, frame=FRAME_SAME if same else FRAME_OTHER),
        )
        text = f"{names[run.labels[i]]} → {names[run.labels[j]]}" + ("" if same else " ✗")
        cells.append((pair[0], text))
        cells.append((pair[1], "its partner"))
    st.caption("Anchors and their first partner, spread over the training set; a red frame and ✗ mark a partner "
               "of another class.")  # fmt: skip
    image_grid(cells, 8, "semantic pairs")
else:
    st.info(f"{run_label(run, score=False)} did not train with semantic pairs. Train `sepp-simclr` or `sepp-vicreg` "
            "on the Train page to see its pairs; below, this run is scored as a sampler.", icon=":material/info:")  # fmt: skip


st.subheader("This run, and the pixels, as a sampler")
st.caption("Partners mined from the training images' backbone features for several k, threshold quantiles and the "
           "mutual filter (faiss, once per representation), with the oracle (same-class) and random bounds at k = 5.")  # fmt: skip
pixels = pixel_baseline_of(run, compute=False)
found = {
    run_label(run, score=False): ensure_result(analysis.stored_sampler_quality(run), jobs.SAMPLER_QUALITY, run,
                                               f"sampler quality of {run.config.method}"),
    PIXELS_NAME: ensure_result(analysis.stored_sampler_quality(pixels) if pixels is not None else None,
                               jobs.SAMPLER_QUALITY, run, "sampler quality of the pixels", params={"rep": "pixels"}),
}  # fmt: skip
rows = [{"sampler": name, **row} for name, q in found.items() if q is not None for row in q["rows"]]
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="sampler_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("pair_precision", "coverage", "mean_partners")})  # fmt: skip
    q = next(q for q in found.values() if q is not None)
    st.caption(f"Bounds on these {q['n']:,} training images: oracle pairs {q['oracle']:.3f}, random pairs "
               f"{q['random']:.3f} (chance).")  # fmt: skip

stored_report(KEY)
