"""The Markdown report of `python -m lab reproduce tilting2025` (docs/reproduce/tilting2025.md).

Baptista, Stuart & Tran 2025; every number comes from the report's JSON, which
lab.papers.tilting2025.reproduce computed; the verdict rules are lab.papers.tilting2025.claims.
"""

from __future__ import annotations

from lab.papers.reports import provenance_markdown
from lab.papers.tilting2025.constants import (
    CITE,
    EXAMPLE_TRUE_SLOPE,
    EXAMPLE_TRUE_VAR,
    IMAGE_LOSSES,
    LOSSES,
    TILTS,
)


def _num(x, fmt: str = ".3f") -> str:
    return "—" if x is None else format(x, fmt)


def row(*cells) -> str:
    """One Markdown table row; a "|" inside a cell (u|v, label|image) is escaped so that it stays in its cell."""
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def rule(n: int) -> str:
    return "|" + "---|" * n


def example_table(example: dict) -> list[str]:
    """Per loss and tilt: A, the model's u|v and marginal variance, trained beside the closed form."""
    lines = [
        row("loss", "tilt", "A trained (closed form)", "u|v slope", "u|v variance", "marginal variance of u"),
        rule(6),
    ]
    for name, r in example.items():
        loss, tilt = name.split("/")
        t, c = r["example"]["trained"], r["example"]["closed_form"] or {}
        lines.append(row(loss, tilt, f"{t['a']:.4f} ({_num(c.get('a'), '.4f')})",
                         f"{_num(t['slope'])} ({_num(c.get('slope'))})", f"{_num(t['var'])} ({_num(c.get('var'))})",
                         f"{_num(r['marginal_u'])} ({_num(r['marginal_u_closed_form'])})"))  # fmt: skip
    lines.append("")
    lines.append(f"Truth: u|v = N({EXAMPLE_TRUE_SLOPE:.3f} v, {EXAMPLE_TRUE_VAR:.3f}). In brackets: the closed form "
                 "[D] of the same loss and tilt. A one-sided loss never fits the other conditional: with the v|u "
                 "loss the model's u|v is whatever its start leaves.")  # fmt: skip
    return lines


def sweep_table(rows: list[dict], axis: str, label: str) -> list[str]:
    """One row per value, one column per loss: u|v mean error (closed form), largest angle, spectrum bias."""
    losses = list(dict.fromkeys(r["loss"] for r in rows))
    lines = [row(label, *losses), rule(len(losses) + 1)]
    for value in dict.fromkeys(r["value"] for r in rows):
        cells = []
        for loss in losses:
            r = next(x for x in rows if x["loss"] == loss and x["value"] == value)
            cells.append(f"{_num(r['mean u|v'])} ({_num(r['closed-form mean u|v'])}), {r['angle']:.1f}°, "
                         f"{_num(r['spectrum_bias'], '+.2%')}")  # fmt: skip
        lines.append(row("∞ (streaming)" if value is None else value, *cells))
    return lines


def image_table(demo: dict) -> list[str]:
    lines = [row("loss", "accuracy", "mean largest p(c|x)", "mean entropy (nats)", "effective sample size",
                 "largest weight", "distinct of draws", "weight on the label"), rule(8)]  # fmt: skip
    rows = [(IMAGE_LOSSES[loss], m) for loss, m in demo["losses"].items()]
    rows.append(("reference: label prior; uniform draws within the label", demo["reference"]))
    for name, m in rows:
        lines.append(row(name, f"{m['accuracy']:.3f}", f"{m['max_probability']:.3f}", f"{m['entropy']:.3f}",
                         f"{m['ess']:.1f}", f"{m['top_weight']:.3f}", f"{m['distinct']:.1f}", f"{m['on_label']:.0%}"))  # fmt: skip
    return lines


def render_markdown(report: dict) -> str:
    """The report as Markdown (what docs/reproduce/tilting2025.md holds and the pages show)."""
    sw, ids = report["sweeps"], report["identities"]
    out = [
        f"# Reproduction: {CITE}",
        "",
        'No code was published with the paper. Definitions: docs/science.md, section "Baptista, Stuart & Tran '
        '2025". [P] the paper\'s, [D] derived from it and checked numerically, [L] the lab\'s design.',
        "",
        *provenance_markdown(report, "tilting2025", scale=f"{report['scale']}.", numbers_from="",
                             seconds_note=f", in which {report['trained_now']} simulations were trained; the others "
                             "were read from the runs folder's cache, trained earlier with the same settings and "
                             "cache version"),  # fmt: skip
        "", "## Claims", "", row("Claim", "Expected", "Measured here", "Verdict"), rule(4),
        *[row(c["claim"], c["paper"], c["measured"], f"**{c['verdict']}**") for c in report["claims"]],
        "", "## The 2-D example", "", "C = [[1.5, 1], [1, 1.5]], n_e = 1. Losses: "
        + "; ".join(f"{name}: {text}" for name, text in LOSSES.items()) + ". Tilts: "
        + "; ".join(f"{name}: {text}" for name, text in TILTS.items()) + ".", "",
        *example_table(report["example"]),
        "", "## The low-rank demo", "",
        "Each cell: the model's u|v conditional-mean error (the closed form's in brackets), the largest principal "
        "angle to the top canonical directions, and the learned canonical spectrum's mean relative deviation from "
        "the closed form's (the finite-batch bias). Bilinear tilt.", "",
        *sweep_table(sw["n_e"], "n_e", "n_e"), "", *sweep_table(sw["batch"], "batch", "batch N"), "",
        *sweep_table(sw["sample_size"], "sample_size", "sample size"), "",
        "The finite-batch bias over seeds (two-sided loss): the learned spectrum's mean relative deviation from the "
        "closed form's, mean ± sd.", "", row("batch N", "mean ± sd", "each seed"), rule(3),
        *[row(r["value"], f"{r['mean']:+.2%} ± {r['sd']:.2%}", ", ".join(f"{b:+.2%}" for b in r["bias"]))
          for r in sw["batch_bias"]],
        "", "## Identities", "",
        f"- L_joint − L_cond over {ids['conditional_vs_joint']['n_encoders']} random encoder pairs: smallest "
        f"{ids['conditional_vs_joint']['min_gap']:.4f}, mean {ids['conditional_vs_joint']['mean_gap']:.4f}.",
        *[f"- CLIP − log N − L_cond at L_cond = {c['population']:.4f}: {c['mean_difference']:+.4f} (sd "
          f"{c['sd_difference']:.4f}, {c['batches']} batches of {c['n']})" for c in ids["clip"]],
        "", "## Image–label", "", f"{report['image_label']['source']}; pool of "
        f"{report['image_label']['config']['pool']:,} test images, {report['image_label']['config']['draws']} draws "
        "per label with weights e^s.", "", *image_table(report["image_label"]),
        "", "Verdict rules [L]:", "", *[f"- {c['claim']} — {c['rule']}" for c in report["claims"]],
        "", f"To rerun: `{report['command']}` (cached simulations under the runs folder are read, not retrained).", "",
    ]  # fmt: skip
    return "\n".join(out)
