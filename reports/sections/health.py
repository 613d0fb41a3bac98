"""Each site's crawl this month: health, coverage, faults, and listings gone before they were read."""

from __future__ import annotations

from typing import Any

from .. import rows
from .base import Context, Query, Section, Tables


def build(q: Query, context: Context) -> dict[str, Any]:
    return {
        "health": [rows.health_row(row, q.lang) for row in q.stat("crawl_health", q.month)],
        "removed_unread": q.stat("removed_unread", q.month),
    }


def export(context: Context) -> Tables:
    return {"health": [{**{k: v for k, v in h.items() if k not in ("errors", "coverage", "problems")},
                        **{f"coverage_{k}": v for k, v in h["coverage"].items()},
                        "errors": rows.pairs(h["errors"]), "problems": "; ".join(h["problems"])}
                       for h in context["health"]]}


SECTION = Section(key="health", title="health", template="_health.html", build=build, export=export)
