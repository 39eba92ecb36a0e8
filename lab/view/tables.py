"""Tables as the screen and the downloads show them: rows of plain values, one dict per row."""

from __future__ import annotations

from lab.measures.probes.table import PROBES


def probe_rows(rows: list[dict]) -> list[dict]:
    """The scored rows of probe tables (lab.measures.probes.table.probe_table) as the Probes page lists
    them: representation, probe, labels, accuracy, 95 % interval, the choice made without test labels."""
    return [{
        "representation": r["features"], "probe": PROBES[r["probe"]].label,
        "labels": f"{r['budget']:.0%} ({r['n_labels']:,})", "budget": r["budget"], "accuracy": r["accuracy"],
        "ci_low": r["ci_low"], "ci_high": r["ci_high"], "95 % CI": f"{r['ci_low']:.3f} – {r['ci_high']:.3f}",
        "chosen without test labels": f"C = {r['C']:g}" if "C" in r else f"step {r['step']}" if "step" in r else "",
        "seconds": r.get("seconds"),
    } for r in rows if r.get("accuracy") is not None]  # fmt: skip
