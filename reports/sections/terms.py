"""The lexicon's terms by hits this month and last, and the terms rising fastest."""

from __future__ import annotations

from typing import Any

from .. import rows
from .base import Context, Query, Section, Tables

# A term "rises" when it gained at least this many hits and at least half again last month's.
RISING_MIN_GAIN = 3
RISING_FACTOR = 1.5
RISING_LIMIT = 10


def build(q: Query, context: Context) -> dict[str, Any]:
    terms = [rows.term_row(row, q.lang) for row in q.stat("term_hits", q.month)]
    up = rising(terms)
    return {"terms": terms, "rising_terms": up[:RISING_LIMIT], "rising_total": len(up)}


def rising(terms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    up = [t for t in terms if t["change"] >= RISING_MIN_GAIN and t["hits"] >= RISING_FACTOR * max(t["previous"], 1)]
    up.sort(key=lambda t: (-t["change"], t["term"]))
    return up


def export(context: Context) -> Tables:
    return {"terms": list(context["terms"])}


SECTION = Section(key="terms", title="terms", template="_terms.html", build=build, export=export)
