"""The month's highest-scoring new flagged ads, in the published column layout."""

from __future__ import annotations

from typing import Any

from monitor.currency import CNY_RATES

from .. import rows
from .base import Context, Query, Section, Tables

LIMIT = 30  # rows the page keeps; the exports carry every one


def build(q: Query, context: Context) -> dict[str, Any]:
    return {"examples": [rows.example_row(row, q.lang) for row in q.stat("example_ads", q.month, limit=q.cap(LIMIT))],
            "examples_total": q.stat("new_flagged_summary", q.month)["listings"],
            "cny_rates": {code: rate for code, rate in CNY_RATES.items() if code != "CNY"}}


def export(context: Context) -> Tables:
    return {"examples": [{k: (", ".join(v) if isinstance(v, list) else v) for k, v in e.items() if k != "spans"}
                         for e in context["examples"]],
            "cny_rates": [{"currency": code, "cny_per_unit": rate} for code, rate in context["cny_rates"].items()]}


SECTION = Section(key="examples", title="examples", template="_examples.html", build=build, export=export)
