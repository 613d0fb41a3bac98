"""Takedown requests and their outcomes, and the month's removals of flagged ads by site and method."""

from __future__ import annotations

from typing import Any

from monitor.months import shift_month

from .. import rows
from .base import Context, Query, Section, Tables


def build(q: Query, context: Context) -> dict[str, Any]:
    # A request's 30- and 60-day outcomes are known only a month or two after it was sent,
    # so the report shows the requests of this month and of the two before it, as known now.
    history = []
    request_months = (shift_month(q.month, -2), q.previous_month, q.month)
    for request_month, cohorts in q.stat("takedown_history", request_months, q.month).items():
        site_outcomes = [rows.takedown_row(row) for row in cohorts]
        history.append({"month": request_month, "sites": site_outcomes, **rows.takedown_totals(site_outcomes)})
    with_requests = [h for h in history if h["requested"]]
    decided = [h for h in with_requests if not h["pending_60"]]
    focus = decided[-1] if decided else (with_requests[0] if with_requests else history[-1])
    return {
        "repeat_unremoved": q.stat("repeat_unremoved", q.month),
        "takedowns": focus["sites"],
        "takedown_totals": {k: v for k, v in focus.items() if k != "sites"},
        "takedown_history": [{k: v for k, v in h.items() if k != "sites"} for h in history],
        "removals": [rows.removal_row(row, q.lang) for row in q.stat("removals", q.month)],
    }


def export(context: Context) -> Tables:
    return {
        "takedowns": [{**r, "intervals": rows.pairs(r["intervals"])} for r in context["takedowns"]],
        "takedown_history": [{**h, "intervals": rows.pairs(h["intervals"])} for h in context["takedown_history"]],
        "takedown_repeats": list(context["repeat_unremoved"]),
        "removals": [{**{k: v for k, v in r.items() if k not in ("by_kind", "by_kind_names")},
                      "by_kind": rows.pairs(r["by_kind"]), "by_kind_names": rows.pairs(r["by_kind_names"])}
                     for r in context["removals"]],
    }


SECTION = Section(key="takedowns", title="takedowns", template="_takedowns.html", build=build, export=export)
