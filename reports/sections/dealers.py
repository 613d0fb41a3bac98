"""The dealers (contacts shared across ads) with the most new flagged ads this month."""

from __future__ import annotations

from typing import Any

from .. import rows
from .base import Context, Query, Section, Tables

LIMIT = 20  # rows kept; the exports carry the same rows


def build(q: Query, context: Context) -> dict[str, Any]:
    return {"dealers": [rows.dealer_row(row, q.lang) for row in q.stat("top_dealers", q.month, limit=LIMIT)],
            "dealers_total": q.stat("dealer_count", q.month)}


def export(context: Context) -> Tables:
    return {"dealers": [{**d, "contacts": ", ".join(d["contacts"]), "ads_by_species": rows.pairs(d["ads_by_species"]),
                         "sites": ", ".join(d["sites"])} for d in context["dealers"]]}


SECTION = Section(key="dealers", title="dealers", template="_dealers.html", build=build, export=export)
