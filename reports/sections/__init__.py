"""The report's sections in page order: one entry each (see ``base.Section``).

A new section is a module here with its ``SECTION`` and a partial under templates/, added to
``SECTIONS``; the context, the page, its contents and the exports pick it up from this list.
"""

from __future__ import annotations

from typing import Any

from . import dealers, examples, health, key_points, misses, places, sites, species, supply, takedowns, terms, trend
from .base import Context, Query, Section, Tables

__all__ = ["SECTIONS", "Query", "Section", "build_all", "export_all"]

SECTIONS: tuple[Section, ...] = (
    key_points.SECTION,
    trend.SECTION,
    species.SECTION,
    sites.SECTION,
    places.SECTION,
    takedowns.SECTION,
    dealers.SECTION,
    supply.SECTION,
    terms.SECTION,
    examples.SECTION,
    misses.SECTION,
    health.SECTION,
)


def build_all(q: Query, sections: tuple[Section, ...] = SECTIONS) -> dict[str, Any]:
    """Every section's entries, each built once the entries it ``needs`` exist (key points last)."""
    built: dict[str, Any] = {}
    waiting = list(sections)
    while waiting:
        ready = [s for s in waiting if all(n in built for n in s.needs)]
        if not ready:
            names = ", ".join(f"{s.key} needs {[n for n in s.needs if n not in built]}" for s in waiting)
            raise ValueError(f"report sections need entries no section builds: {names}")
        for section in ready:
            built.update(section.build(q, built))
            waiting.remove(section)
    return built


def export_all(context: Context, sections: tuple[Section, ...] = SECTIONS) -> Tables:
    """The tables of every section, in page order."""
    tables: Tables = {}
    for section in sections:
        tables.update(section.export(context))
    return tables
