"""What the paper-claims page shows for each of the five papers: a card built from the claims index
(lab.papers.claims_index), the paper registry, and the paper's stored report (lab.papers.reports).

It only reads: the report's JSON, and git for staleness. A report is **stale** when a commit that
touched lab/papers/<key>/ is not in the history of the report's code version (`git log -1
<code_version>..HEAD -- lab/papers/<key>` names one): the paper's code changed after the report was
made. Uncommitted changes are not seen. When git is missing, or does not know the report's version,
staleness is unknown (None).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from lab.papers.claims_index import INDEX, IndexedPaper
from lab.papers.reports import VERDICTS, load_report, report_paths

REPO = Path(__file__).resolve().parents[2]
NOT_MEASURED = "not yet measured"


@dataclass(frozen=True)
class Card:
    key: str
    title: str
    citation: str
    registered: bool  # in the lab's paper registry (its pages are in the app)
    pages: tuple = ()  # lab.papers.paper.PaperPage of a registered paper
    claims: list[dict] = field(default_factory=list)  # claim, measured, verdict, rule, page (when known)
    command: str = ""  # the command that (re)makes the report
    measured: bool = False
    date: str | None = None
    code_version: str | None = None
    scale: str | None = None
    quick: bool = False
    stale: bool | None = None  # None: unknown (no git, or a version git does not know)
    newer_commit: str | None = None  # the latest commit on the package after the report's version

    @property
    def verdicts(self) -> dict[str, int]:
        found = [c["verdict"] for c in self.claims]
        return {v: found.count(v) for v in (*VERDICTS, NOT_MEASURED) if v in found}


def report_claims(report: dict) -> list[dict]:
    """A report's claims: its top-level "claims", and each section's under "datasets" (section title first)."""
    found = list(report.get("claims", []))
    for section in report.get("datasets", []):
        title = section.get("title") or section.get("dataset")
        found += [
            {**c, "claim": f"{title}: {c['claim']}" if title else c["claim"]}
            for c in section.get("claims", [])
        ]
    return found


def report_scale(report: dict) -> str | None:
    """The report's scale in words: its "scale" when that is text, else each dataset section's size."""
    if isinstance(report.get("scale"), str):
        return report["scale"]
    parts = []
    for s in report.get("datasets", []):
        size = f"{s['n_train']:,} training images" if isinstance(s.get("n_train"), int) else ""
        epochs = f", {s['epochs']:g} epochs" if isinstance(s.get("epochs"), int | float) else ""
        encoder = f", encoder {s['encoder']}" if s.get("encoder") else ""
        parts.append(f"{s.get('title') or s.get('dataset', '?')}: {size}{epochs}{encoder}")
    return "; ".join(parts) or None


def newer_commit(key: str, version: str | None, repo: Path = REPO) -> tuple[bool | None, str | None]:
    """(stale, the newest commit on lab/papers/<key>/ after `version`): (False, None) when none, (None, None)
    when git cannot tell."""
    if not version or version == "unknown":
        return None, None
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h", f"{version}..HEAD", "--", f"lab/papers/{key}"],
                             cwd=repo, capture_output=True, text=True, timeout=5)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None, None
    if out.returncode != 0:
        return None, None
    commit = out.stdout.strip()
    return bool(commit), commit or None


def paper_card(entry, papers: dict, out_dir: str | os.PathLike | None = None, repo: Path = REPO) -> Card:
    """The card of one indexed paper (lab.papers.claims_index.IndexedPaper); papers: lab.papers.PAPERS."""
    paper = papers.get(entry.key)
    base = dict(key=entry.key, title=paper.title if paper else entry.title,
                citation=paper.citation if paper else entry.citation, registered=paper is not None,
                pages=paper.pages if paper else ())  # fmt: skip
    found = load_report(entry.key, out_dir)
    if found is None or not report_claims(found[1]):
        claims = [{"claim": c.sentence, "measured": None, "verdict": NOT_MEASURED} for c in entry.claims]
        return Card(**base, claims=claims, command=entry.command)
    report = found[1]
    stale, commit = newer_commit(entry.key, report.get("code_version"), repo)
    return Card(**base, claims=report_claims(report), command=report.get("command") or entry.command, measured=True,
                date=report.get("date"), code_version=report.get("code_version"), scale=report_scale(report),
                quick=bool(report.get("quick")), stale=stale, newer_commit=commit)  # fmt: skip


def claim_cards(papers: dict, out_dir: str | os.PathLike | None = None, repo: Path = REPO) -> list[Card]:
    """One card per paper of the index, in its order, then any registered paper it does not list."""
    extra = [
        IndexedPaper(k, p.title, p.citation, ()) for k, p in papers.items() if k not in {e.key for e in INDEX}
    ]
    return [paper_card(entry, papers, out_dir, repo) for entry in (*INDEX, *extra)]


def reports_stamp(papers: dict, out_dir: str | os.PathLike | None = None) -> tuple:
    """(path, modification time) of every paper's report JSON: changes when a report is written (a cache key)."""
    stamp = []
    for key in (*(e.key for e in INDEX), *papers):
        path = report_paths(key, out_dir)[1]
        stamp.append((str(path), path.stat().st_mtime_ns if path.is_file() else 0))
    return tuple(stamp)
