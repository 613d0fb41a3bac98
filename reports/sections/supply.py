"""Dealers' supply by product form: this month's new flagged ads per form, their dealers and the
volume they state, with wanted (收/求购) ads counted apart (``monitor.storage.supply``)."""

from __future__ import annotations

from typing import Any

from monitor.storage.supply import supply_by_form

from ..codes import code_name
from .base import Context, Query, Section, Tables


def build(q: Query, context: Context) -> dict[str, Any]:
    table = supply_by_form(q.session, q.month)
    named = {intent: [{**row, "name": q.labels["total"] if row["form"] == "total" else code_name("form", row["form"], q.lang)}
                      for row in rows] for intent, rows in table.items()}
    return {"supply": named["sell"], "supply_wanted": named["buy"]}


def export(context: Context) -> Tables:
    return {"supply": [dict(row) for row in (*context["supply"], *context["supply_wanted"])]}


SECTION = Section(key="supply", title="supply", template="_supply.html", build=build, export=export)
