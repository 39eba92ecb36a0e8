"""Registries by name: the lab's own entries, then those the papers add (lab.papers)."""

from __future__ import annotations

from collections.abc import Iterable


def by_name(own: Iterable, added: Iterable, what: str) -> dict:
    """{entry.name: entry} of `own` then `added`; a name given twice is an error that says which."""
    entries = {e.name: e for e in own}
    for e in added:
        if e.name in entries:
            raise ValueError(
                f"{what} '{e.name}' is registered twice; give the paper's {what.lower()} its own name."
            )
        entries[e.name] = e
    return entries
