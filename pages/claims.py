"""Paper claims page: one card per paper the lab reproduces, each claim in one sentence with what was
measured and its verdict, read from the paper's stored report (docs/reproduce/<key>.json, written by
`python -m lab reproduce <key>`); never computed here, and never typed in. lab.papers.claim_cards builds
the cards; a report older than its paper's code is marked stale."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from lab.papers import PAPERS
from lab.papers.claim_cards import NOT_MEASURED, claim_cards, reports_stamp
from pages.ui import state

state.require_app()  # a page opened by its URL right after the server started

BADGES = {"reproduced": "green", "partly": "orange", "not at this scale": "red", NOT_MEASURED: "gray"}


@st.cache_data(ttl=30, show_spinner=False)
def cards(stamp: tuple):
    """The cards, read again when a report is written (stamp) and at least every 30 s (a new commit can make
    a report stale)."""
    return claim_cards(PAPERS)


def cell(text: str) -> str:
    """Text for one Markdown table cell: on one line, its "|" (u|v, label|image) escaped."""
    return str(text).replace("\n", " ").replace("|", "\\|")


def badge(verdict: str) -> str:
    return f":{BADGES.get(verdict, 'gray')}-badge[{verdict}]"


def page_links(card) -> None:
    """A link to each page that shows the paper's effects; plain text when the app does not list the page
    (a page opened outside app.py's navigation)."""
    for p in card.pages:
        try:
            st.page_link(p.path, label=f"See it: {p.title}", icon=p.icon)
        except StreamlitPageNotFoundError:
            st.markdown(f"See it: [{p.title}](/{p.url})")
    if not card.registered:
        st.caption("Not in the lab yet: its package under lab/papers/ is not registered, so it has no pages.")


def provenance(card) -> str:
    if not card.measured:
        return f"Not yet measured. To measure: `{card.command}` (add `--quick` for a smaller, faster run)."
    if card.stale is None:
        age = "staleness unknown (git cannot tell)"
    elif card.stale:
        age = f"**stale**: lab/papers/{card.key}/ changed after it (commit {card.newer_commit}); rerun to refresh"
    else:
        age = "current: no change to the paper's code since"
    quick = " · a --quick run" if card.quick else ""
    return (
        f"Measured {card.date} · code version {card.code_version} · {age}{quick}  \n"
        f"Scale: {card.scale or 'not stated'}  \nRerun: `{card.command}`"
    )


def show(card) -> None:
    with st.container(border=True):
        st.markdown(f"#### {card.title}")
        counts = " ".join(f"{badge(v)} ×{n}" for v, n in card.verdicts.items())
        st.markdown(f"{card.citation} · `{card.key}` · {counts}")
        rows = [
            f"| {cell(c['claim'])} | {cell(c.get('measured') or '—')} | {badge(c['verdict'])} |"
            for c in card.claims
        ]
        st.markdown("| Claim | Measured | Verdict |\n|---|---|---|\n" + "\n".join(rows))
        st.caption(provenance(card))
        page_links(card)


st.title("What the papers claim, and what the lab measured")
st.caption("Each claim in one sentence; the numbers and the verdict (*reproduced*, *partly*, *not at this scale*) "
           "come from the paper's stored report in docs/reproduce/, which its `reproduce` command writes by "
           "stated rules. This page computes nothing.")  # fmt: skip
all_cards = cards(reports_stamp(PAPERS))
measured = [c for c in all_cards if c.measured]
st.markdown(f"{len(measured)} of {len(all_cards)} papers measured · "
            + " ".join(f"{badge(v)} ×{sum(c.verdicts.get(v, 0) for c in all_cards)}" for v in BADGES
                       if any(v in c.verdicts for c in all_cards)))  # fmt: skip
for card in all_cards:
    show(card)
