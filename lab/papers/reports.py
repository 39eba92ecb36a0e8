"""Stored reproduction reports, one pair of files per paper in docs/reproduce/: <key>.md (what a person
reads) and <key>.json (the numbers, which the app reads; never typed in). Every paper's `reproduce`
command writes them with `save_report`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from lab.store.atomic import save_json_atomically, save_text_atomically

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "reproduce"
VERDICTS = ("reproduced", "partly", "not at this scale")


def report_paths(key: str, out_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """(markdown, json) paths of a paper's stored report."""
    folder = Path(out_dir) if out_dir is not None else DEFAULT_OUT
    return folder / f"{key}.md", folder / f"{key}.json"


def load_report(key: str, out_dir: str | os.PathLike | None = None) -> tuple[str, dict] | None:
    """A paper's stored report (markdown text, json dict), or None when it has not been written."""
    md, js = report_paths(key, out_dir)
    try:
        return md.read_text(), json.loads(js.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def save_report(key: str, report: dict, markdown: str, out_dir: str | os.PathLike | None = None) -> Path:
    """Write both files atomically (the numbers first); returns the Markdown path."""
    md, js = report_paths(key, out_dir)
    save_json_atomically(js, report, indent=1)
    save_text_atomically(md, markdown)
    return md


def render_again(key: str, out_dir: str | os.PathLike | None = None) -> Path:
    """Rewrite a paper's <key>.md from its stored <key>.json with today's renderer (lab.papers.<key>.report);
    nothing is trained or measured, the numbers and their provenance stay the JSON's. Returns the path."""
    import importlib

    md, js = report_paths(key, out_dir)
    try:
        report = json.loads(js.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"No readable report at {js}: run `python -m lab reproduce {key}` first.") from exc
    render = importlib.import_module(f"lab.papers.{key}.report").render_markdown
    save_text_atomically(md, render(report))
    return md


def command_line(key: str, quick: bool, datasets: tuple[str, ...] | None = None) -> str:
    """The command that reruns a paper's reproduction as it was asked for."""
    cmd = f"python -m lab reproduce {key}" + (" --quick" if quick else "")
    return cmd + "".join(f" --dataset {d}" for d in datasets or ())


def provenance(cite: str, command: str, quick: bool) -> dict:
    """The fields every report opens with: the paper, the command, the date, the code and the machine."""
    from lab.store.provenance import code_version, machine_line

    return {"paper": cite, "command": command, "quick": quick,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "code_version": code_version(),
            "machine": machine_line()}  # fmt: skip


def write_report(key: str, report: dict, markdown: str, out_dir, log: Callable[[str], None]) -> Path:
    """save_report, then say where it went; returns the Markdown path."""
    md_path = save_report(key, report, markdown, out_dir)
    log(f"Wrote {md_path} and {md_path.with_suffix('.json').name} in {report['seconds']:.0f} s.")
    return md_path


def log_claims(claims: list[dict], log: Callable[[str], None]) -> None:
    for c in claims:
        log(f"  {c['verdict']:>17}: {c['claim']}")


def reproduce_per_dataset(key: str, cite: str, what: str, reproduce_dataset: Callable, render: Callable[[dict], str],
                          *, quick: bool, runs_dir, datasets: tuple[str, ...] | None, default: tuple[str, ...],
                          out_dir, log: Callable[[str], None], train_progress: Callable | None) -> Path:  # fmt: skip
    """The `main` of a paper whose report is one section per dataset: reproduce_dataset(dataset, quick,
    store, log, train_progress) for each of datasets (or default), each section's claims logged, then
    both files written with `render`. what: the runs, for the log ("the VICReg and SAG-VICReg runs")."""
    from lab.store.runs import RunStore

    start = time.perf_counter()
    store = RunStore(runs_dir)
    sections = []
    for dataset in datasets or default:
        log(f"{dataset}: training or reusing {what}...")
        sections.append(reproduce_dataset(dataset, quick, store, log, train_progress))
        log_claims(sections[-1]["claims"], log)
    report = {**provenance(cite, command_line(key, quick, datasets), quick),
              "seconds": round(time.perf_counter() - start, 1), "datasets": sections}  # fmt: skip
    return write_report(key, report, render(report), out_dir, log)


def claims_markdown(claims: list[dict], measurements: list[str]) -> list[str]:
    """A report section's claims table, its measurements (Markdown lines) and the verdict rules."""
    out = ["", "### Claims", "", "| Claim | Paper | Measured here | Verdict |", "|---|---|---|---|"]
    out += [f"| {c['claim']} | {c['paper']} | {c['measured']} | **{c['verdict']}** |" for c in claims]
    out += ["", "### Measurements", "", *measurements, "", "Verdict rules [L]:", ""]
    return out + [f"- {c['claim']} — {c['rule']}" for c in claims]


def provenance_markdown(report: dict, key: str, *, seconds_note: str = "", scale: str | None = None,
                        numbers_from: str = " from the runs named below", after: str = "") -> list[str]:  # fmt: skip
    """A report's opening bullets (Markdown lines): its command, date, code version, total time, machine,
    scale when given, and where its numbers and verdicts come from (lab/papers/<key>/claims.py)."""
    lines = [
        f"- **Command:** `{report['command']}`",
        f"- **Date:** {report['date']} · **code version:** {report['code_version']} · "
        f"**total time:** {report['seconds']:.0f} s{seconds_note}",
        f"- **Machine:** {report['machine']}",
    ]
    if scale is not None:
        lines.append(f"- **Scale:** {scale}")
    return lines + [
        f"- Every number is computed by the lab{numbers_from}; each verdict is computed from these numbers by "
        f"`lab/papers/{key}/claims.py` (`judge_claims`, rule beside each claim).{after}"
    ]


def rerun_line(report: dict) -> list[str]:
    return ["", f"To rerun: `{report['command']}` (runs are reused from the run store when present).", ""]
