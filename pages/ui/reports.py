"""A paper's stored reproduction report (docs/reproduce/<key>.md and .json), as a page section."""

from __future__ import annotations

import streamlit as st

from lab.papers.reports import VERDICTS, load_report, report_paths


def stored_report(key: str) -> None:
    """The report of `python -m lab reproduce <key>`, its verdicts counted, with downloads; or how to
    make it when it is not stored."""
    st.subheader("Reproduction of the paper")
    found = load_report(key)
    if found is None:
        st.info(f"No stored reproduction yet. Run `python -m lab reproduce {key} --quick` (a few minutes) or "
                "without `--quick` for the full scale; the report lands in docs/reproduce/.", icon=":material/info:")  # fmt: skip
        return
    text, data = found
    verdicts = [c["verdict"] for s in data.get("datasets", []) for c in s.get("claims", [])]
    st.caption(f"Stored report of {data.get('date', '?')} · `{data.get('command', '?')}` · verdicts: "
               + ", ".join(f"{verdicts.count(v)} {v}" for v in VERDICTS if v in verdicts))  # fmt: skip
    with st.expander(f"The report (docs/reproduce/{key}.md)", expanded=True):
        body = text.split("\n", 1)[1] if text.startswith("# ") else text  # the title is this section's
        st.markdown(
            body.replace("\n### ", "\n##### ").replace("\n## ", "\n#### ")
        )  # headings fit the expander
    a, b = st.columns(2)
    a.download_button("Report (.md)", text, f"{key}.md", "text/markdown", on_click="ignore")
    b.download_button("Numbers (.json)", report_paths(key)[1].read_bytes(), f"{key}.json", "application/json",
                      on_click="ignore")  # fmt: skip


def broken_paper(key: str, error: str) -> None:
    """The page of a paper package that failed to import: what broke, and that the rest works."""
    st.title(f"Paper '{key}' could not be loaded")
    st.error(f"The package lab/papers/{key} failed to import, so its pages are missing. The rest of the lab "
             "works. Fix the error below, then reload the page.", icon=":material/error:")  # fmt: skip
    st.code(error, language=None)
