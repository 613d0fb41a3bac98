"""Dealers (contacts shared across ads): this month's most active, and apart the most active of all
time up to the end of the report month, so the biggest dealer shows even in a quiet month.

A contact that looks written with a digit missing is marked with a footnote symbol (explained
under the tables): it may be one of the dealer's full numbers.
"""

from __future__ import annotations

from typing import Any, Mapping

from monitor.storage.dossier import dealer_total, looks_incomplete, most_active_dealers

from .. import rows
from .base import Context, Query, Section, Tables

LIMIT = 20  # rows the page keeps in each table; the exports carry every dealer
INCOMPLETE_MARK = "†"


def _row(row: Mapping[str, Any], lang: str) -> dict[str, Any]:
    out = rows.dealer_row(row, lang)
    out["contacts"] = [rows.contact_text(c, lang) + (INCOMPLETE_MARK if looks_incomplete(c["kind"], c["value"]) else "")
                       for c in row["contacts"]]
    return out


def build(q: Query, context: Context) -> dict[str, Any]:
    active = [_row(row, q.lang) for row in q.stat("top_dealers", q.month, limit=q.cap(LIMIT))]
    all_time = [_row(row, q.lang) for row in most_active_dealers(q.session, q.month, limit=q.cap(LIMIT))]
    marked = any(c.endswith(INCOMPLETE_MARK) for d in active + all_time for c in d["contacts"])
    return {"dealers": active, "dealers_total": q.stat("dealer_count", q.month), "dealers_all_time": all_time,
            "dealers_all_time_total": dealer_total(q.session, q.month),
            "dealers_marked": marked, "dealers_note": f"{INCOMPLETE_MARK} {q.labels['incomplete_contact']}"}


def _table(dealers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**d, "contacts": ", ".join(d["contacts"]), "ads_by_species": rows.pairs(d["ads_by_species"]),
             "sites": ", ".join(d["sites"])} for d in dealers]


def export(context: Context) -> Tables:
    return {"dealers": _table(context["dealers"]), "dealers_all_time": _table(context["dealers_all_time"])}


SECTION = Section(key="dealers", title="dealers", template="_dealers.html", build=build, export=export)
