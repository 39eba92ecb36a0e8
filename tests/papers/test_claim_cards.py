"""lab.papers.claim_cards: the paper-claims page's cards, read from stored reports; "not yet measured"
without one; a report older than its paper's code is stale, and staleness is unknown without git."""

from __future__ import annotations

import json
import subprocess

import pytest

import lab.papers
from lab.papers import claim_cards
from lab.papers.claims_index import INDEX

ZHANG = {"date": "2026-11-23 17:30 UTC", "command": "python -m lab reproduce zhang2023", "code_version": "abc1234",
         "datasets": [{"title": "Fashion-MNIST", "n_train": 60000, "epochs": 1.6, "encoder": "cnn-16",
                       "claims": [{"claim": "Supervised clusters are globally dense.", "measured": "CHS 96 vs 43",
                                   "verdict": "reproduced"}]}]}  # fmt: skip


def write(folder, key, report):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{key}.json").write_text(json.dumps(report))
    (folder / f"{key}.md").write_text("# report\n")


def test_every_indexed_paper_gets_a_card_and_a_paper_without_a_report_is_not_yet_measured(tmp_path):
    write(tmp_path, "zhang2023", ZHANG)
    cards = {c.key: c for c in claim_cards.claim_cards(lab.papers.PAPERS, tmp_path)}
    assert (
        list(cards)[:5]
        == [e.key for e in INDEX]
        == ["zhang2023", "xue2023", "sepp2023", "sag2025", "tilting2025"]
    )
    for key in ("xue2023", "sepp2023", "sag2025", "tilting2025"):
        card = cards[key]
        assert not card.measured and {c["verdict"] for c in card.claims} == {"not yet measured"}
        assert card.command == f"python -m lab reproduce {key}" and card.claims
    z = cards["zhang2023"]
    assert z.measured and z.registered and z.pages and z.verdicts == {"reproduced": 1}
    assert z.claims[0]["claim"] == "Fashion-MNIST: Supervised clusters are globally dense."
    assert z.scale == "Fashion-MNIST: 60,000 training images, 1.6 epochs, encoder cnn-16"
    assert z.date == ZHANG["date"] and z.code_version == "abc1234" and z.command == ZHANG["command"]


def test_a_paper_outside_the_registry_keeps_its_index_title(tmp_path):
    card = claim_cards.paper_card(INDEX[1], {}, tmp_path)
    assert not card.registered and card.pages == () and card.title.startswith("Which Features are Learnt")


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def repo(tmp_path):
    r = tmp_path / "repo"
    (r / "lab" / "papers" / "demo").mkdir(parents=True)
    git(r, "init", "-q")
    git(r, "config", "user.email", "t@example.com")
    git(r, "config", "user.name", "t")
    for text in ("one", "two"):
        (r / "lab" / "papers" / "demo" / "x.py").write_text(text)
        git(r, "add", ".")
        git(r, "commit", "-q", "-m", text)
    (r / "README").write_text("docs only")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "docs")
    return r


def test_a_report_older_than_its_papers_code_is_stale(repo):
    first, second, docs = git(repo, "log", "--format=%h").splitlines()[::-1]
    assert claim_cards.newer_commit("demo", first, repo) == (True, second)
    assert claim_cards.newer_commit("demo", second, repo) == (False, None)
    assert claim_cards.newer_commit("demo", docs, repo) == (
        False,
        None,
    )  # later commits elsewhere do not count


def test_staleness_is_unknown_without_git_or_for_a_version_git_does_not_know(repo, monkeypatch):
    assert claim_cards.newer_commit("demo", "deadbee", repo) == (None, None)
    assert claim_cards.newer_commit("demo", "unknown", repo) == (None, None)

    def no_git(*a, **kw):
        raise FileNotFoundError("git")

    monkeypatch.setattr(claim_cards.subprocess, "run", no_git)
    assert claim_cards.newer_commit("demo", "abc1234", repo) == (None, None)
